/**
 * The runner at scale, for the bench command: planning a large matrix, merging the shards of a
 * large run, and building the dashboard of a long history, each timed in a process of its own so
 * that its peak memory is its own (VmHWM of that process). The inputs (a synthetic history, the
 * shards) are written by the calling process first; a worker only does the work it measures.
 *
 * A worker is `vtcio bench --worker KIND --dir DIR --size N --repeats R` (lib/cli.ts), which
 * prints one {@linkcode WorkerResult} as JSON.
 *
 * @module
 */

import { join } from "node:path";
import { parseMatrix } from "./matrix_parse.ts";
import { expandMatrix } from "./plan.ts";
import { mergeRunDirs } from "./history.ts";
import { buildDashboard } from "./dashboard.ts";
import { writeSyntheticHistory } from "./bench_dashboard.ts";
import { readRunRecord, type RunRecord, writeFileAtomic } from "./results.ts";
import { run } from "./proc.ts";

/** What a worker measures. */
export type WorkerKind = "noop" | "plan" | "merge" | "dashboard";

/** What a worker prints. */
export interface WorkerResult {
  kind: WorkerKind;
  /** Seconds of each repeat. */
  seconds: number[];
  /** Peak resident memory of the worker process, in MiB (VmHWM). */
  peakMiB: number;
  /** What was done, e.g. the number of cells planned. */
  detail: Record<string, number>;
}

/** The median of numbers (the mean of the middle two for an even count). */
export function median(values: number[]): number {
  if (values.length === 0) throw new Error("No values to take the median of");
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Peak resident memory of this process so far, in MiB (VmHWM), or NaN where unknown. */
export function peakRssMiB(): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(Deno.readTextFileSync("/proc/self/status"));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** A matrix text with about `cells` combinations, all from one product. */
export function largeMatrix(cells: number): string {
  // kernel x testdevice x l1_smp x l2_smp x a user axis sized to reach the count.
  const base = 3 * 2 * 4 * 4;
  const n = Math.max(1, Math.ceil(cells / base));
  const values = Array.from({ length: n }, (_, i) => `v${i}`);
  const opts = values.map((v) => `    ${v}: { l2_qemu: ["-name", "${v}"] }`).join("\n");
  return [
    "name: bench",
    "axes:",
    '  kernel: ["6.1", "6.12", "7.2"]',
    "  testdevice: [on, off]",
    "  l1_smp: [1, 2, 3, 4]",
    "  l2_smp: [1, 2, 3, 4]",
    `  load: [${values.join(", ")}]`,
    "axis_options:",
    "  load:",
    opts,
    "",
  ].join("\n");
}

/**
 * Writes `shards` shard run directories under `root` that together hold a run of `cells`
 * synthetic cells (with their logs), split as `--shard K/N` splits a plan. Returns the
 * directories, shard 1 first.
 */
export async function writeSyntheticShards(
  root: string,
  shards: number,
  cells: number,
): Promise<string[]> {
  const whole = join(root, "whole");
  await writeSyntheticHistory(whole, { runs: 1, cells, logRuns: 1 });
  const [runId] = [...Deno.readDirSync(whole)].map((e) => e.name);
  const record = await readRunRecord(join(whole, runId, "run.json"));
  const dirs: string[] = [];
  for (let k = 1; k <= shards; k++) {
    const id = `${runId.slice(0, 16)}-${(0xa000 + k).toString(16)}`;
    const dir = join(root, "shards", id);
    const planned = record.planned.filter((_, i) => i % shards === k - 1);
    const mine = new Set(planned);
    const part: RunRecord = {
      ...record,
      run_id: id,
      shard: { index: k, count: shards, group: "bench-merge" },
      planned,
      argv: ["run", "matrix/nightly.yaml", "--shard", `${k}/${shards}`],
      cells: record.cells.filter((c) => mine.has(c.id)),
    };
    await Deno.mkdir(join(dir, "cells"), { recursive: true });
    for (const id of planned) {
      await Deno.rename(join(whole, runId, "cells", id), join(dir, "cells", id)).catch(() => {});
    }
    await writeFileAtomic(join(dir, "run.json"), `${JSON.stringify(part, null, 2)}\n`);
    dirs.push(dir);
  }
  await Deno.remove(whole, { recursive: true });
  return dirs;
}

/** Options of {@linkcode runWorker}: what the calling process prepared. */
export interface WorkerOptions {
  /** plan: cells; merge: ignored; dashboard: runs to show. */
  size: number;
  repeats: number;
  /** merge: the directory holding `shards/`; dashboard: the history root. */
  dir?: string;
}

/** Does one kind of work `repeats` times in this process and reports its times and peak memory. */
export async function runWorker(kind: WorkerKind, o: WorkerOptions): Promise<WorkerResult> {
  const seconds: number[] = [];
  const detail: Record<string, number> = {};
  const time = async (fn: () => unknown) => {
    const t0 = performance.now();
    await fn();
    seconds.push((performance.now() - t0) / 1000);
  };
  for (let i = 0; i < o.repeats; i++) {
    if (kind === "plan") {
      const text = largeMatrix(o.size);
      await time(() => {
        detail.cells = expandMatrix(parseMatrix(text, "bench.yaml")).cells.length;
      });
    } else if (kind === "merge") {
      const shards = join(o.dir!, "shards");
      const dirs = [...Deno.readDirSync(shards)].map((e) => join(shards, e.name)).sort();
      const out = join(o.dir!, `merged-${i}`);
      await time(async () => {
        const m = await mergeRunDirs(dirs, out);
        detail.cells = m.record.cells.length;
        detail.shards = dirs.length;
      });
      await Deno.remove(out, { recursive: true });
    } else if (kind === "dashboard") {
      const site = join(o.dir!, "..", "site");
      await time(async () => {
        const s = await buildDashboard(o.dir!, site, { maxRuns: o.size });
        detail.runs = s.runs;
        detail.pages = s.pages;
      });
      detail.indexKiB = Math.round((await Deno.stat(join(site, "index.html"))).size / 1024);
    } else {
      await time(() => {});
    }
  }
  return { kind, seconds, peakMiB: peakRssMiB(), detail };
}

/**
 * Runs a worker in a new process (`vtcio bench --worker ...`) and returns what it printed.
 *
 * @throws {Error} when the worker fails or prints no result
 */
export async function spawnWorker(
  repo: string,
  kind: WorkerKind,
  o: WorkerOptions,
): Promise<WorkerResult> {
  const args = [
    "run",
    "--allow-all",
    `${repo}/lib/cli.ts`,
    "bench",
    "--worker",
    kind,
    "--size",
    String(o.size),
    "--repeats",
    String(o.repeats),
    ...(o.dir ? ["--dir", o.dir] : []),
  ];
  const r = await run(Deno.execPath(), args, { cwd: repo });
  const last = r.stdout.trim().split("\n").pop() ?? "";
  if (r.code !== 0 || !last.startsWith("{")) {
    throw new Error(`Bench worker ${kind} failed (exit ${r.code}): ${r.stderr.slice(-500)}`);
  }
  return JSON.parse(last) as WorkerResult;
}

/** What {@linkcode benchScale} measured. */
export interface ScaleBench {
  /** The worker doing nothing: Deno's own peak memory, the floor of the others. */
  noop: WorkerResult;
  plan: WorkerResult;
  merge: WorkerResult;
  dashboard: WorkerResult;
  /** Seconds to write the synthetic inputs (not part of any measurement). */
  setupSeconds: number;
  /** Where the dashboard was built (for timing its opening), under `work`. */
  site: string;
}

/** Sizes of the runner-at-scale benchmarks. */
export interface ScaleSizes {
  planCells: number;
  mergeShards: number;
  mergeCells: number;
  dashboardRuns: number;
  dashboardCells: number;
  repeats: number;
}

/** Full-size inputs (issue 7) and the quick ones (CI). */
export const SCALE_FULL: ScaleSizes = {
  planCells: 10000,
  mergeShards: 16,
  mergeCells: 10000,
  dashboardRuns: 365,
  dashboardCells: 100,
  repeats: 5,
};
export const SCALE_QUICK: ScaleSizes = {
  planCells: 1000,
  mergeShards: 16,
  mergeCells: 160,
  dashboardRuns: 20,
  dashboardCells: 20,
  repeats: 1,
};

/** Prepares the inputs in `work` and runs each worker. */
export async function benchScale(
  repo: string,
  work: string,
  sizes: ScaleSizes,
): Promise<ScaleBench> {
  const t0 = performance.now();
  const history = join(work, "history");
  await writeSyntheticHistory(history, { runs: sizes.dashboardRuns, cells: sizes.dashboardCells });
  const mergeDir = join(work, "merge");
  await writeSyntheticShards(mergeDir, sizes.mergeShards, sizes.mergeCells);
  const setupSeconds = (performance.now() - t0) / 1000;
  const repeats = sizes.repeats;
  const noop = await spawnWorker(repo, "noop", { size: 0, repeats: 1 });
  const plan = await spawnWorker(repo, "plan", { size: sizes.planCells, repeats });
  const merge = await spawnWorker(repo, "merge", {
    size: 0,
    repeats: Math.min(repeats, 3),
    dir: mergeDir,
  });
  const dashboard = await spawnWorker(repo, "dashboard", {
    size: sizes.dashboardRuns,
    repeats: Math.min(repeats, 3),
    dir: history,
  });
  return { noop, plan, merge, dashboard, setupSeconds, site: join(work, "site") };
}
