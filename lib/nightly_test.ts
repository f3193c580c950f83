import assert from "node:assert/strict";
import { join } from "node:path";
import { loadHistory } from "./history.ts";
import { nightlyGroup, runNightly, shardArgs, type ShardRunner } from "./nightly.ts";
import { RunStore } from "./results.ts";
import type { CellResult, Outcome } from "./types.ts";

const CELLS = ["a", "b", "c", "d", "e"];

function cell(id: string, outcome: Outcome): CellResult {
  return {
    id,
    outcome,
    reason: outcome,
    tests: [],
    timings: { build: 1 },
    logs: { "l1-console": `cells/${id}/l1-console.log` },
    attempts: 1,
    flaky: false,
    facts: { accel: "tcg" },
    started: "2026-11-25T03:15:00.000Z",
    finished: "2026-11-25T03:16:00.000Z",
  };
}

/**
 * A stand-in for `matrix run`: parses --shard and --run-group like the CLI, records its cells
 * (shard K of N takes cells K, K+N...) in a run under VTCIO_RESULTS and exits with `codes[K]`.
 */
function fakeCli(
  codes: Record<number, number>,
  failing: string[] = [],
  calls: string[][] = [],
): ShardRunner {
  return async (args, env) => {
    calls.push(args);
    const [index, count] = args[args.indexOf("--shard") + 1].split("/").map(Number);
    const group = args[args.indexOf("--run-group") + 1];
    const code = codes[index] ?? 0;
    if (code === 2) return 2; // a usage error: no run
    const mine = CELLS.filter((_, i) => i % count === index - 1);
    const store = await RunStore.create(env.VTCIO_RESULTS, {
      matrix: { file: args[2], name: "nightly", sha256: "cd".repeat(32) },
      host: { hostname: `machine-${index}` },
      versions: { deno: "2.9.6" },
      planned: mine,
      argv: args.slice(1),
      shard: { index, count, group },
    });
    const done = code === 130 ? mine.slice(0, 1) : mine;
    for (const id of done) {
      const dir = store.cellDir(id);
      await Deno.writeTextFile(join(dir, "l1-console.log"), `console of ${id}\n`);
      await store.recordCell(cell(id, failing.includes(id) ? "fail" : "pass"));
    }
    await store.finish(code === 130 ? "interrupted" : "complete");
    return code;
  };
}

async function withRepo(fn: (repo: string) => Promise<void>): Promise<void> {
  const repo = await Deno.makeTempDir({ prefix: "vtcio-nightly-" });
  try {
    await fn(repo);
  } finally {
    await Deno.remove(repo, { recursive: true });
  }
}

Deno.test("shardArgs() and nightlyGroup() give the CLI line of each shard", () => {
  assert.deepEqual(shardArgs("matrix/nightly.yaml", 2, 4, "g", ["--retry", "1"]), [
    "matrix",
    "run",
    "matrix/nightly.yaml",
    "--shard",
    "2/4",
    "--run-group",
    "g",
    "--retry",
    "1",
  ]);
  assert.equal(nightlyGroup(new Date("2026-11-25T01:17:03.456Z")), "nightly-20261125T011703Z");
});

Deno.test("runNightly() runs every shard, merges them into the history and builds the site", async () => {
  await withRepo(async (repo) => {
    const calls: string[][] = [];
    const lines: string[] = [];
    const result = await runNightly({
      repo,
      shards: 3,
      group: "n1",
      runShard: fakeCli({ 2: 1 }, ["b"], calls),
      log: (l) => lines.push(l),
    });
    assert.deepEqual(calls.map((a) => a[4]), ["1/3", "2/3", "3/3"]);
    assert.ok(calls.every((a) => a.includes("--retry") && a[2] === "matrix/nightly.yaml"));
    assert.deepEqual(result.shards, [{ index: 1, code: 0 }, { index: 2, code: 1 }, {
      index: 3,
      code: 0,
    }]);
    assert.equal(result.exitCode, 1);
    assert.deepEqual(result.problems, []);
    assert.equal(result.shardRoot, join(repo, "results", "shards", "n1"));
    const merged = result.merged!.record;
    assert.deepEqual(merged.planned, CELLS);
    assert.deepEqual(merged.cells.map((c) => `${c.id}:${c.outcome}`), [
      "a:pass",
      "b:fail",
      "c:pass",
      "d:pass",
      "e:pass",
    ]);
    assert.deepEqual(merged.merged!.parts.map((p) => p.host.hostname), [
      "machine-1",
      "machine-2",
      "machine-3",
    ]);
    assert.equal(
      await Deno.readTextFile(join(result.merged!.dir, "cells", "b", "l1-console.log")),
      "console of b\n",
    );
    // The history sees one run (the shards live under results/shards/, not a run id).
    const history = await loadHistory(join(repo, "results"));
    assert.deepEqual(history.runs.map((r) => r.id), [merged.run_id]);
    assert.equal(result.dashboard?.runs, 1);
    assert.match(await Deno.readTextFile(join(repo, "site", "index.html")), /New failures \(1\)/);
    assert.ok(lines.some((l) => l.startsWith("nightly: merged 3 shard run(s)")));
  });
});

Deno.test("runNightly() stops at a usage error or a signal, and publishes what ran", async () => {
  await withRepo(async (repo) => {
    const usage = await runNightly({
      repo,
      shards: 2,
      group: "n2",
      runShard: fakeCli({ 1: 2 }),
      siteDir: false,
      log: () => {},
    });
    assert.equal(usage.exitCode, 2);
    assert.deepEqual(usage.shards, [{ index: 1, code: 2 }]);
    assert.equal(usage.merged, undefined);
    assert.deepEqual(usage.problems, [
      "Shard 1/2 failed with exit code 2",
      "Shards 2..2 not run",
      `No shard left a run in ${join(repo, "results", "shards", "n2")}: nothing to merge`,
    ]);

    const stopped = await runNightly({
      repo,
      shards: 3,
      group: "n3",
      runShard: fakeCli({ 2: 130 }),
      log: () => {},
    });
    assert.equal(stopped.exitCode, 130);
    assert.deepEqual(stopped.shards.map((s) => s.code), [0, 130]);
    const merged = stopped.merged!.record;
    assert.equal(merged.status, "interrupted");
    assert.deepEqual(merged.merged!.missing, [3]);
    assert.deepEqual(merged.cells.map((c) => c.id), ["a", "b", "d"]);
    assert.ok(stopped.problems.includes("Shard 2/3 was stopped (exit 130)"));
    assert.ok(stopped.problems.includes("Shards 3 left no run"));
    assert.equal(stopped.dashboard?.runs, 1);
  });
});

Deno.test("runNightly() refuses a bad shard count or group", async () => {
  await assert.rejects(() => runNightly({ repo: "/nonexistent", shards: 0 }), /shard count/);
  await assert.rejects(
    () => runNightly({ repo: "/nonexistent", group: "../x" }),
    /Invalid run group/,
  );
});
