/**
 * vtcio's command line: the only module that parses arguments or exits.
 *
 *   matrix [run] [FILE] [--only F] [--shard K/N] [--retry N] [--resume RUN] [--jobs N]
 *              [--run-group G]
 *   matrix plan [--explain] [FILE]
 *   matrix merge RUN-DIR... [--out ROOT]
 *   dashboard [--history ROOT] [--out DIR]
 *   nightly [--shards N] [--matrix FILE] [--run-group G] [--only F] [--retry N]
 *   bench [--quick] [--only SECTIONS] [--repeats N] [--from-run RUN-DIR]...
 *   doctor
 */
import { parseArgs } from "node:util";
import { decodeMatrix, parseMatrix } from "./matrix_parse.ts";
import { MatrixError } from "./matrix_error.ts";
import { expandMatrix, parseShard, selectCells, SelectionError } from "./plan.ts";
import { newRunId, RunStore } from "./results.ts";
import { MultiReporter } from "./reporter.ts";
import { TerminalReporter } from "./reporter_terminal.ts";
import { JsonReporter } from "./reporter_json.ts";
import { JunitReporter } from "./reporter_junit.ts";
import { KernelBuilder } from "./kernel_build.ts";
import { runCell } from "./cell_run.ts";
import { runCells } from "./runner.ts";
import { installSignalHandlers, run } from "./proc.ts";
import { sha256Hex } from "./hash.ts";
import { hostFacts } from "./host_facts.ts";
import { fetchMissingSources, KernelSourcesError } from "./kernel_sources.ts";
import { doctorOk, doctorRows, renderDoctor } from "./doctor.ts";
import { mergeRunDirs, runShard } from "./history.ts";
import { buildDashboard } from "./dashboard.ts";
import { runNightly } from "./nightly.ts";
import { benchMarkdown, runBench, type Section, SECTIONS, writeBench } from "./bench.ts";
import { runWorker, type WorkerKind } from "./bench_scale.ts";
import { SpanRecorder } from "./run_time.ts";

const repo = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const DEFAULT_MATRIX = "matrix/smoke.yaml";
const DEFAULT_TCG_RETRIES = 2;

/** A mistake in how the command was called: exit code 2 with the message. */
class UsageError extends Error {}

function cacheRoot(): string {
  return Deno.env.get("VTCIO_CACHE") ?? `${repo}/.cache`;
}

function resultsRoot(): string {
  return Deno.env.get("VTCIO_RESULTS") ?? `${repo}/results`;
}

async function loadPlan(file: string) {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(file);
  } catch (e) {
    throw new UsageError(`Cannot read matrix file ${file}: ${(e as Error).message}`);
  }
  const spec = parseMatrix(decodeMatrix(bytes, file), file);
  return { spec, plan: expandMatrix(spec), sha256: await sha256Hex(bytes) };
}

async function cmdPlan(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { explain: { type: "boolean" }, only: { type: "string" }, shard: { type: "string" } },
  });
  const file = positionals[0] ?? DEFAULT_MATRIX;
  const { plan } = await loadPlan(file);
  const cells = selectCells(plan.cells, {
    only: values.only,
    shard: values.shard ? parseShard(values.shard) : undefined,
  });
  for (const c of cells) console.log(c.id);
  console.log(`${cells.length} cell(s), ${plan.excluded.length} combination(s) excluded`);
  if (values.explain) {
    console.log("");
    for (const line of plan.explain) console.log(line);
  }
  return 0;
}

async function cmdRun(args: string[]): Promise<number> {
  // From the start: host facts and planning are part of what the runner costs.
  const spans = new SpanRecorder();
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      only: { type: "string" },
      shard: { type: "string" },
      retry: { type: "string" },
      resume: { type: "string" },
      jobs: { type: "string" },
      "run-group": { type: "string" },
    },
  });
  let facts = await hostFacts();
  // Nested KVM under TCG hangs now and then whatever the cell (L2 falls silent while L1 runs on):
  // there, cells get two more tries by default, and one that passes on a retry is marked flaky.
  const retries = values.retry !== undefined
    ? Number(values.retry)
    : facts.accel === "tcg"
    ? DEFAULT_TCG_RETRIES
    : 0;
  if (!Number.isInteger(retries) || retries < 0) {
    throw new UsageError(`--retry takes a whole number, not "${values.retry}"`);
  }
  if (values.retry === undefined && retries > 0) {
    console.error(
      `vtcio: L1 runs under TCG: a cell with an unexpected outcome is tried up to ${retries} ` +
        `more times (--retry 0 to turn this off)`,
    );
  }
  const rows = doctorRows(facts);
  if (!doctorOk(rows)) {
    console.error(renderDoctor(rows));
    throw new UsageError("This host cannot run the matrix: see the table above");
  }
  let store: RunStore;
  let file: string;
  if (values.resume) {
    store = await RunStore.open(resultsRoot(), values.resume, Deno.args);
    file = store.record.matrix.file;
  } else {
    file = positionals[0] ?? DEFAULT_MATRIX;
  }
  const { spec, plan, sha256 } = await loadPlan(file);
  const selected = selectCells(plan.cells, {
    only: values.only,
    shard: values.shard ? parseShard(values.shard) : undefined,
  });
  if (selected.length === 0) throw new UsageError(`No cell of ${file} matches the selection`);
  // Kernels fetched rather than installed (7.2 from sid) are fetched now, and only when a selected
  // cell needs them; a failed fetch skips those cells with the reason.
  const sources = await fetchMissingSources({
    repo,
    cache: cacheRoot(),
    needed: selected.map((c) => c.kernel),
    have: facts.kernelSources,
    table: facts.fetchableKernels,
    onFetch: (series, suite) =>
      console.error(
        `vtcio: fetching linux-source-${series} from ${suite} for the kernel ${series} cells ` +
          `(setup/fetch-linux-source.sh; nothing is installed)`,
      ),
  });
  for (const why of Object.values(sources.problems)) console.error(`vtcio: warning: ${why}`);
  // The run records the fetched version with the other host facts.
  if (Object.keys(sources.fetched).length > 0) facts = await hostFacts();
  const cores = navigator.hardwareConcurrency || 2;
  // Each L1 keeps l1_smp cores busy; more at once overloads the host (and nested KVM under
  // TCG hangs more often when starved).
  const widest = Math.max(...selected.map((c) => c.l1_smp));
  const jobs = values.jobs ? Number(values.jobs) : Math.max(1, Math.floor(cores / widest));
  if (!Number.isInteger(jobs) || jobs < 1) throw new UsageError(`--jobs takes a whole number >= 1`);
  if (values.resume) {
    store = store!;
  } else {
    store = await RunStore.create(resultsRoot(), {
      run_id: newRunId(),
      matrix: { file, name: spec.name, sha256 },
      host: Object.fromEntries(
        Object.entries(facts).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]),
      ),
      versions: await versions(),
      planned: selected.map((c) => c.id),
      argv: Deno.args,
      ...(values.shard
        ? {
          shard: runShard(parseShard(values.shard), {
            group: values["run-group"],
            matrixSha256: sha256,
          }),
        }
        : {}),
    });
  }
  const todo = values.resume ? selected.filter((c) => store.pending().includes(c.id)) : selected;
  const controller = new AbortController();
  installSignalHandlers((sig) => {
    controller.abort();
    console.error(`\nvtcio: ${sig}: stopped QEMU; results so far are in ${store.dir}`);
    store.finish("interrupted").finally(() => Deno.exit(sig === "SIGINT" ? 130 : 143));
  });
  const cache = cacheRoot();
  const reporter = new MultiReporter([
    new TerminalReporter({
      matrixFile: file,
      rerunCommand: (id) => `./vtcio matrix run ${file} --only id=${id}`,
    }),
    new JsonReporter(store, () => spans.times()),
    new JunitReporter(store.junitPath),
  ]);
  const summary = await runCells({
    store,
    cells: todo,
    reporter,
    runCell,
    jobs,
    retries,
    signal: controller.signal,
    ctx: {
      repo,
      cache,
      builder: new KernelBuilder(
        { repo, cache },
        run,
        cores,
        (w) => console.error(`vtcio: warning: ${w}`),
      ),
      images: { repo, cache, busybox: facts.busybox ?? "/bin/busybox" },
      qemu: facts.qemu.path,
      accel: facts.accel,
      l1TscKhz: facts.tscKhz ?? undefined,
      tarballs: facts.kernelSources,
      sourceProblems: sources.problems,
      l1MemMb: 1536,
      l2MemMb: 256,
      signal: controller.signal,
      runDir: store.dir,
    },
  });
  return summary.unexpected.length > 0 || summary.status !== "complete" ? 1 : 0;
}

async function versions(): Promise<Record<string, string>> {
  const out: Record<string, string> = { deno: Deno.version.deno };
  const git = await run("git", ["-C", repo, "rev-parse", "HEAD"]);
  if (git.code === 0) out.vtcio = git.stdout.trim();
  const gcc = await run("gcc", ["--version"]);
  out.gcc = gcc.stdout.split("\n")[0];
  return out;
}

async function cmdMerge(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { out: { type: "string" } },
  });
  if (positionals.length === 0) {
    throw new UsageError("matrix merge needs one or more run directories");
  }
  const { dir, record } = await mergeRunDirs(positionals, values.out ?? resultsRoot());
  const merged = record.merged!;
  for (const c of merged.conflicts) {
    const dropped = c.dropped.map((d) => `${d.outcome} of ${d.run_id}`).join(", ");
    console.error(`vtcio: ${c.id}: kept ${c.kept.outcome} of ${c.kept.run_id}, dropped ${dropped}`);
  }
  if (merged.missing.length > 0) {
    console.error(`vtcio: Shards ${merged.missing.join(", ")} missing`);
  }
  console.log(`Merged ${merged.parts.length} run(s) into ${dir}`);
  return 0;
}

async function cmdDashboard(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { history: { type: "string" }, out: { type: "string" } },
  });
  const s = await buildDashboard(values.history ?? resultsRoot(), values.out ?? `${repo}/site`);
  for (const w of s.warnings) console.error(`vtcio: ${w}`);
  console.log(`Dashboard of ${s.runs} run(s), ${s.cells} cell(s): ${s.outDir}/index.html`);
  return 0;
}

async function cmdNightly(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      shards: { type: "string", default: "1" },
      matrix: { type: "string" },
      "run-group": { type: "string" },
      only: { type: "string" },
      retry: { type: "string", default: "1" },
    },
  });
  const shards = Number(values.shards);
  if (!Number.isInteger(shards) || shards < 1) {
    throw new UsageError(`--shards takes a whole number >= 1, not "${values.shards}"`);
  }
  const controller = new AbortController();
  Deno.addSignalListener("SIGINT", () => controller.abort());
  const r = await runNightly({
    repo,
    shards,
    matrix: values.matrix,
    group: values["run-group"],
    // Passed on to every shard's `matrix run`, which checks them.
    extraArgs: ["--retry", values.retry, ...(values.only ? ["--only", values.only] : [])],
    historyRoot: resultsRoot(),
    signal: controller.signal,
  });
  for (const p of r.problems) console.error(`vtcio: ${p}`);
  return r.exitCode;
}

async function cmdBench(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      quick: { type: "boolean" },
      only: { type: "string" },
      repeats: { type: "string" },
      "from-run": { type: "string", multiple: true },
      // Internal: one measurement of the runner at scale in a process of its own.
      worker: { type: "string" },
      size: { type: "string", default: "0" },
      dir: { type: "string" },
    },
  });
  const whole = (name: string, text: string | undefined, min: number) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < min) {
      throw new UsageError(`--${name} takes a whole number >= ${min}, not "${text}"`);
    }
    return n;
  };
  if (values.worker !== undefined) {
    const kinds: WorkerKind[] = ["noop", "plan", "merge", "dashboard"];
    const kind = kinds.find((k) => k === values.worker);
    if (!kind) throw new UsageError(`--worker takes one of ${kinds.join(", ")}`);
    const r = await runWorker(kind, {
      size: whole("size", values.size, 0),
      repeats: whole("repeats", values.repeats ?? "1", 1),
      dir: values.dir,
    });
    console.log(JSON.stringify(r));
    return 0;
  }
  const only = values.only?.split(",").map((x) => x.trim()).filter((x) => x !== "");
  for (const x of only ?? []) {
    if (!(SECTIONS as readonly string[]).includes(x)) {
      throw new UsageError(`Unknown bench section "${x}": use ${SECTIONS.join(", ")}`);
    }
  }
  const fromRuns = values["from-run"] ?? [];
  for (const dir of fromRuns) {
    if (!(await Deno.stat(`${dir}/run.json`).then(() => true, () => false))) {
      throw new UsageError(`--from-run ${dir}: no run.json there`);
    }
  }
  const facts = await hostFacts();
  const quick = values.quick ?? false;
  const report = await runBench({
    repo,
    cache: cacheRoot(),
    results: resultsRoot(),
    tarballs: facts.kernelSources,
    accel: facts.accel,
    quick,
    // Reading a finished run alone is quick: the other sections only when asked for.
    only: (only ?? (fromRuns.length > 0 ? ["runs"] : undefined)) as Section[] | undefined,
    repeats: values.repeats === undefined ? undefined : whole("repeats", values.repeats, 1),
    fromRuns,
    log: (line) => console.error(`vtcio bench: ${line}`),
  });
  const written = await writeBench(repo, resultsRoot(), report);
  console.log(benchMarkdown(written));
  console.error(
    quick
      ? `vtcio bench: quick mode, written to ${resultsRoot()}/bench-quick.json`
      : "vtcio bench: written to bench/results.json and BENCHMARKS.md",
  );
  return 0;
}

async function cmdDoctor(): Promise<number> {
  const rows = doctorRows(await hostFacts());
  console.log(renderDoctor(rows));
  return doctorOk(rows) ? 0 : 1;
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case "matrix": {
      const [sub, ...args] = rest;
      if (sub === "plan") return await cmdPlan(args);
      if (sub === "run") return await cmdRun(args);
      if (sub === "merge") return await cmdMerge(args);
      return await cmdRun(rest);
    }
    case "doctor":
      return await cmdDoctor();
    case "dashboard":
      return await cmdDashboard(rest);
    case "nightly":
      return await cmdNightly(rest);
    case "bench":
      return await cmdBench(rest);
    default:
      throw new UsageError(
        `Unknown command "${
          cmd ?? ""
        }": use matrix [run|plan|merge], dashboard, nightly, bench, doctor`,
      );
  }
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (e) {
    if (
      e instanceof MatrixError || e instanceof UsageError || e instanceof SelectionError ||
      e instanceof KernelSourcesError
    ) {
      console.error(`vtcio: ${e.message}`);
      Deno.exit(2);
    }
    if (e instanceof TypeError && (e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      console.error(`vtcio: ${e.message}`);
      Deno.exit(2);
    }
    throw e;
  }
}
