/**
 * Whole runs, for the bench command: running `vtcio matrix run` as a user would (a child process
 * of the real CLI) and reading what a finished run's run.json says about its time: wall time,
 * cells per hour, each phase's median, retries, and where the runner's time went.
 *
 * `vtcio bench --from-run results/<id>` uses {@linkcode runStats} on a run made elsewhere (the
 * lead's nightly): a merged run of shards is measured from its parts' start and end.
 *
 * @module
 */

import { join } from "node:path";
import { readRunRecord, type RunRecord } from "./results.ts";
import { type RunnerTimes, sumRunnerTimes } from "./run_time.ts";
import type { CellResult, Outcome, Phase } from "./types.ts";
import { countOutcomes } from "./summary.ts";
import { median } from "./bench_scale.ts";
import { run } from "./proc.ts";

/** Phases whose timings a cell records, in order. */
export const PHASES: readonly Phase[] = [
  "build",
  "image",
  "l1_boot",
  "l2_boot",
  "clients",
  "shutdown",
];

/** What a finished run says about its time. */
export interface RunStats {
  runId: string;
  matrix: string;
  status: string;
  cells: number;
  outcomes: Partial<Record<Outcome, number>>;
  /** From the first start to the last end (of the run, or of its merged parts). */
  wallSeconds: number;
  cellsPerHour: number;
  /** Attempts beyond the first, over all cells (retries of unexpected outcomes). */
  retries: number;
  /** Median seconds of each phase over the cells that recorded it. */
  phaseMedians: Partial<Record<Phase, number>>;
  /** Sum of each phase over all cells (cells in parallel overlap). */
  phaseTotals: Partial<Record<Phase, number>>;
  /** Median seconds from a cell's start to its verdict. */
  cellMedian: number;
  /**
   * Cells whose build phase took over {@linkcode COMPILED_S} seconds: they compiled a kernel
   * rather than found it in the cache (a cache hit takes well under a second).
   */
  builtCells: number;
  /** Where the runner's time went, when the run (or each of its merged parts) recorded it. */
  runner?: RunnerTimes;
  /** Set when {@linkcode RunStats.runner} is the sum of this many merged parts' times. */
  runnerParts?: number;
}

function seconds(from: string, to: string): number {
  return (Date.parse(to) - Date.parse(from)) / 1000;
}

/** A build phase longer than this compiled something (see {@linkcode RunStats.builtCells}). */
export const COMPILED_S = 10;

/** Seconds from a cell's start to its verdict. */
export function cellSeconds(c: CellResult): number {
  return seconds(c.started, c.finished);
}

/** The time figures of a run record. */
export function runStats(r: RunRecord): RunStats {
  // A merged run's own times are those of the merge: its parts' are those of the run.
  const spans = r.merged?.parts.length ? r.merged.parts : [r];
  const start = Math.min(...spans.map((p) => Date.parse(p.started)));
  const lastCell = Math.max(...r.cells.map((c) => Date.parse(c.finished)), start);
  const end = Math.max(...spans.map((p) => p.finished ? Date.parse(p.finished) : lastCell));
  const wallSeconds = (end - start) / 1000;
  const phaseMedians: Partial<Record<Phase, number>> = {};
  const phaseTotals: Partial<Record<Phase, number>> = {};
  for (const p of PHASES) {
    const values = r.cells.map((c) => c.timings[p]).filter((v): v is number => v !== undefined);
    if (values.length === 0) continue;
    phaseMedians[p] = median(values);
    phaseTotals[p] = values.reduce((a, b) => a + b, 0);
  }
  const counts = countOutcomes(r.cells);
  const parts = r.merged?.parts ?? [];
  const partTimes = parts.flatMap((p) => p.runner ? [p.runner] : []);
  // Only when every part has them: a sum over some would understate.
  const summed = !r.runner && partTimes.length === parts.length
    ? sumRunnerTimes(partTimes)
    : undefined;
  return {
    runId: r.run_id,
    matrix: r.matrix.name,
    status: r.status,
    cells: r.cells.length,
    outcomes: Object.fromEntries(Object.entries(counts).filter(([, n]) => n > 0)),
    wallSeconds,
    cellsPerHour: wallSeconds > 0 ? r.cells.length / (wallSeconds / 3600) : 0,
    retries: r.cells.reduce((n, c) => n + Math.max(0, c.attempts - 1), 0),
    phaseMedians,
    phaseTotals,
    cellMedian: r.cells.length > 0 ? median(r.cells.map(cellSeconds)) : 0,
    builtCells: r.cells.filter((c) => (c.timings.build ?? 0) > COMPILED_S).length,
    ...(r.runner ? { runner: r.runner } : {}),
    ...(summed ? { runner: summed, runnerParts: parts.length } : {}),
  };
}

/** Reads `<dir>/run.json`. */
export async function readRun(dir: string): Promise<RunRecord> {
  return await readRunRecord(join(dir, "run.json"));
}

/** A `matrix run` done by {@linkcode runMatrix}. */
export interface MatrixRun {
  /** Wall seconds of the whole child process, as a user waits for it. */
  seconds: number;
  exitCode: number;
  dir: string;
  record: RunRecord;
}

/**
 * Runs `vtcio matrix run ARGS` as a child process with `env` added (VTCIO_CACHE, VTCIO_RESULTS)
 * and returns its run directory's record. Outcomes are the caller's to judge.
 *
 * @throws {Error} when the child made no run directory (bad arguments, no host support...)
 */
export async function runMatrix(
  repo: string,
  args: string[],
  env: Record<string, string>,
  log: (line: string) => void = () => {},
): Promise<MatrixRun> {
  log(`vtcio matrix run ${args.join(" ")}`);
  const t0 = performance.now();
  const r = await run(
    Deno.execPath(),
    ["run", "--allow-all", `${repo}/lib/cli.ts`, "matrix", "run", ...args],
    { cwd: repo, env: { ...env, NO_COLOR: "1", CI: "true" } },
  );
  const seconds = (performance.now() - t0) / 1000;
  const out = r.stdout + r.stderr;
  const m = /results in (\S+)/.exec(out);
  if (!m) {
    throw new Error(
      `matrix run ${args.join(" ")} made no run (exit ${r.code}): ${out.slice(-800)}`,
    );
  }
  const record = await readRun(m[1]);
  log(`  ${record.run_id}: exit ${r.code} after ${seconds.toFixed(1)} s`);
  return { seconds, exitCode: r.code, dir: m[1], record };
}
