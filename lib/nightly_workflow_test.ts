/**
 * Checks .github/workflows/nightly.yml as far as can be done offline (no actionlint): it parses,
 * uses only keys GitHub knows, its job graph is sound, and its steps call vtcio the way
 * docs/history.md says.
 */
import assert from "node:assert/strict";
import { parse } from "yaml";

const PATH = new URL("../.github/workflows/nightly.yml", import.meta.url);

type Obj = Record<string, unknown>;

function obj(value: unknown, what: string): Obj {
  assert.ok(
    typeof value === "object" && value !== null && !Array.isArray(value),
    `${what} is not a mapping`,
  );
  return value as Obj;
}

function list(value: unknown, what: string): unknown[] {
  assert.ok(Array.isArray(value), `${what} is not a list`);
  return value;
}

const TOP_KEYS = new Set([
  "name",
  "run-name",
  "on",
  "permissions",
  "concurrency",
  "env",
  "defaults",
  "jobs",
]);
const JOB_KEYS = new Set([
  "name",
  "needs",
  "if",
  "runs-on",
  "environment",
  "permissions",
  "concurrency",
  "outputs",
  "env",
  "defaults",
  "steps",
  "timeout-minutes",
  "strategy",
  "continue-on-error",
  "container",
  "services",
]);
const STEP_KEYS = new Set([
  "id",
  "if",
  "name",
  "uses",
  "run",
  "working-directory",
  "shell",
  "with",
  "env",
  "continue-on-error",
  "timeout-minutes",
]);
const CONTEXTS = new Set([
  "github",
  "env",
  "vars",
  "job",
  "jobs",
  "steps",
  "runner",
  "secrets",
  "strategy",
  "matrix",
  "needs",
  "inputs",
]);
const FUNCTIONS = new Set([
  "hashFiles",
  "cancelled",
  "always",
  "success",
  "failure",
  "contains",
  "startsWith",
  "format",
  "toJSON",
  "fromJSON",
  "join",
  "endsWith",
]);

const text = await Deno.readTextFile(PATH);
const workflow = obj(parse(text), "the workflow");
const jobs = obj(workflow.jobs, "jobs");

function steps(job: string): Obj[] {
  return list(obj(jobs[job], job).steps, `${job}.steps`).map((s, i) =>
    obj(s, `${job}.steps[${i}]`)
  );
}

function step(job: string, uses: string): Obj {
  const found = steps(job).filter((s) =>
    typeof s.uses === "string" && s.uses.startsWith(`${uses}@`)
  );
  assert.equal(found.length, 1, `${job} has ${found.length} ${uses} steps`);
  return found[0];
}

function runs(job: string): string {
  return steps(job).map((s) => (typeof s.run === "string" ? s.run : "")).join("\n");
}

Deno.test("nightly.yml uses only known keys, pinned actions and well-formed expressions", () => {
  for (const key of Object.keys(workflow)) {
    assert.ok(TOP_KEYS.has(key), `unknown top-level key ${key}`);
  }
  for (const [name, job] of Object.entries(jobs)) {
    for (const key of Object.keys(obj(job, name))) {
      assert.ok(JOB_KEYS.has(key), `${name}: unknown key ${key}`);
    }
    assert.ok(typeof obj(job, name)["runs-on"] === "string", `${name} has no runs-on`);
    const ids = new Set<string>();
    for (const [i, s] of steps(name).entries()) {
      for (const key of Object.keys(s)) {
        assert.ok(STEP_KEYS.has(key), `${name}.steps[${i}]: unknown key ${key}`);
      }
      assert.ok(
        ("uses" in s) !== ("run" in s),
        `${name}.steps[${i}] needs exactly one of uses and run`,
      );
      if (typeof s.uses === "string") {
        assert.match(s.uses, /^[\w.-]+\/[\w.-]+(\/[\w./-]+)?@v\d+$/, s.uses);
      }
      if (typeof s.id === "string") {
        assert.ok(!ids.has(s.id), `${name}: step id ${s.id} repeated`);
        ids.add(s.id);
      }
    }
  }
  const opens = text.split("${{").length - 1;
  assert.equal(opens, text.split("}}").length - 1, "unbalanced ${{ }}");
  for (const [, expr] of text.matchAll(/\$\{\{(.*?)\}\}/g)) {
    for (const [, word] of expr.replace(/'[^']*'/g, "").matchAll(/(?<![\w.-])([A-Za-z_][\w-]*)/g)) {
      assert.ok(
        CONTEXTS.has(word) || FUNCTIONS.has(word) || ["true", "false", "null"].includes(word),
        `unknown name ${word} in \${{${expr}}}`,
      );
    }
  }
});

Deno.test("nightly.yml runs on a schedule and by hand", () => {
  const on = obj(workflow.on, "on");
  const schedule = list(on.schedule, "on.schedule");
  assert.equal(schedule.length, 1);
  assert.match(String(obj(schedule[0], "schedule[0]").cron), /^(\S+ ){4}\S+$/);
  assert.ok("workflow_dispatch" in on);
  assert.deepEqual(workflow.permissions, { contents: "read" });
});

Deno.test("nightly.yml: shard job over 4 shards with cache and results artifact", () => {
  const shard = obj(jobs.shard, "shard");
  const strategy = obj(shard.strategy, "shard.strategy");
  assert.equal(strategy["fail-fast"], false);
  assert.deepEqual(obj(strategy.matrix, "matrix").shard, [1, 2, 3, 4]);
  assert.match(String(shard.name), /\$\{\{ matrix\.shard \}\}\/4/);
  assert.match(String(obj(shard.container, "container").image), /^debian:12$/);
  const run = runs("shard");
  assert.match(
    run,
    /\.\/vtcio matrix run "\$MATRIX" --shard \$\{\{ matrix\.shard \}\}\/\$\{\{ strategy\.job-total \}\}/,
  );
  assert.match(run, /--run-group \$\{\{ github\.run_id \}\}/);
  const cache = obj(step("shard", "actions/cache").with, "cache.with");
  assert.equal(cache.path, ".cache");
  assert.match(String(cache.key), /hashFiles\('kernel\/\*\*', 'guest-images\/\*\*'\)/);
  assert.match(String(cache.key), /matrix\.shard/);
  const upload = step("shard", "actions/upload-artifact");
  assert.equal(upload.if, "${{ !cancelled() }}");
  const uploadWith = obj(upload.with, "upload.with");
  assert.equal(uploadWith.path, "results/");
  assert.equal(uploadWith.name, "results-shard-${{ matrix.shard }}");
  // The checkout comes before anything that needs the repository.
  const names = steps("shard").map((s) => String(s.uses ?? s.run));
  assert.ok(
    names.findIndex((n) => n.startsWith("actions/checkout@")) <
      names.findIndex((n) => n.includes("./vtcio")),
  );
});

Deno.test("nightly.yml: merge, dashboard and Pages deployment after the shards", () => {
  const graph: Record<string, string[]> = {};
  for (const [name, job] of Object.entries(jobs)) {
    const needs = obj(job, name).needs;
    graph[name] = needs === undefined
      ? []
      : Array.isArray(needs)
      ? needs.map(String)
      : [String(needs)];
    for (const need of graph[name]) assert.ok(need in jobs, `${name} needs unknown job ${need}`);
  }
  assert.deepEqual(graph, { shard: [], merge: ["shard"], deploy: ["merge"] });
  assert.equal(obj(jobs.merge, "merge").if, "${{ !cancelled() }}");

  const download = obj(step("merge", "actions/download-artifact").with, "download.with");
  assert.equal(download.pattern, "results-shard-*");
  const run = runs("merge");
  assert.match(run, /\.\/vtcio matrix merge \$dirs --out history/);
  assert.match(run, /\.\/vtcio dashboard --history history --out site/);
  assert.equal(obj(step("merge", "actions/upload-pages-artifact").with, "pages.with").path, "site");
  assert.ok(step("merge", "actions/cache/restore"));
  assert.ok(step("merge", "actions/cache/save"));

  const deploy = obj(jobs.deploy, "deploy");
  assert.deepEqual(deploy.permissions, { pages: "write", "id-token": "write" });
  const environment = obj(deploy.environment, "deploy.environment");
  assert.equal(environment.name, "github-pages");
  const deployStep = step("deploy", "actions/deploy-pages");
  assert.match(
    String(environment.url),
    new RegExp(`steps\\.${deployStep.id}\\.outputs\\.page_url`),
  );
});
