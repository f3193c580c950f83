/**
 * A matrix cell, phase by phase, for the bench command: the smoke matrix run through the real
 * CLI on an empty cache (cold: kernels, userspace and images built from nothing) and then again
 * on the same, now warm, cache; then the incremental kernel builds a developer waits for after
 * editing the guest driver, or after flipping TESTDEVICE, timed with the KernelBuilder itself.
 *
 * Everything cold happens in a temporary cache (VTCIO_CACHE for the children), removed at the end,
 * so the shared cache is neither used nor disturbed. The quick mode (CI) only boots one smoke cell
 * whose kernels are already in the configured cache, and skips otherwise.
 *
 * @module
 */

import { join } from "node:path";
import { KernelBuilder, type KernelSpec } from "./kernel_build.ts";
import { kernelFragments } from "./cell_run.ts";
import { parseMatrix } from "./matrix_parse.ts";
import { expandMatrix } from "./plan.ts";
import { run } from "./proc.ts";
import { SpanRecorder, unionLength } from "./run_time.ts";
import { type MatrixRun, runMatrix, type RunStats, runStats } from "./bench_runs.ts";
import type { Cell } from "./types.ts";
import { runTimelines } from "./bench_timeline.ts";

const SMOKE = "matrix/smoke.yaml";

/** The smoke matrix's cells, TESTDEVICE on first. */
export async function smokeCells(repo: string): Promise<{ on: Cell; off: Cell }> {
  const text = await Deno.readTextFile(join(repo, SMOKE));
  const cells = expandMatrix(parseMatrix(text, SMOKE)).cells;
  const on = cells.find((c) => c.testdevice);
  const off = cells.find((c) => !c.testdevice);
  if (!on || !off) throw new Error(`${SMOKE} no longer has a TESTDEVICE on and off cell`);
  return { on, off };
}

/** One incremental kernel build: its wall time and what took it. */
export interface IncrementalBuild {
  seconds: number;
  /** Making the kernel (make olddefconfig, make bzImage). */
  makeSeconds: number;
  /** Bringing the source tree to the edited patch series (cp, prepare-tree.sh, rsync). */
  syncSeconds: number;
}

/** What {@linkcode benchCell} measured. */
export interface CellBench {
  /** The smoke matrix on an empty cache, one job (so each cell's phases are its own). */
  cold?: RunStats;
  /** Cold phases of the TESTDEVICE-on cell (first) and TESTDEVICE-off cell (second). */
  coldOn?: Partial<Record<string, number>>;
  coldOff?: Partial<Record<string, number>>;
  /** Make time of each cold kernel, from the cache's meta.json (L1 on, L2, L1 off). */
  coldKernels?: Record<string, number>;
  /** The smoke matrix again on the warm cache (default jobs), each repeat. */
  warm: RunStats[];
  /** Steps of each warm cell's boot, from its consoles (lib/bench_timeline.ts). */
  timelines: Record<string, number>[];
  /** Wall seconds of each warm `matrix run` child, as a user waits for it. */
  warmProcessSeconds: number[];
  coldProcessSeconds?: number;
  /**
   * Per repeat, after an edit of the guest driver: L1 TESTDEVICE on, L1 TESTDEVICE off (a flip:
   * same sources, the previous build in the directory was L1 on) and L2, in one build directory,
   * as a smoke run rebuilds them.
   */
  smokeAfterEdit: IncrementalBuild[][];
  /** Per repeat: L2 (which holds the driver) after another edit, nothing else changed. */
  driverOnly: IncrementalBuild[];
  /** Why parts were not measured. */
  skipped: string[];
  /** Run directories made (evidence). */
  runs: string[];
}

/** Options of {@linkcode benchCell}. */
export interface CellBenchOptions {
  repo: string;
  /** The configured cache (quick mode only reads it). */
  cache: string;
  tarballs: Record<string, string>;
  quick: boolean;
  /** Warm smoke runs (full mode). */
  repeats: number;
  /** Driver edits and TESTDEVICE flips (full mode). */
  incrementalRepeats: number;
  results: string;
  log: (line: string) => void;
}

/** Make time of each kernel in a cache, by the role its .config gives it. */
async function coldKernelSeconds(cache: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const entries = await Array.fromAsync(Deno.readDir(join(cache, "kernels"))).catch(() => []);
  for (const e of entries) {
    const dir = join(cache, "kernels", e.name);
    try {
      const meta = JSON.parse(await Deno.readTextFile(join(dir, "meta.json")));
      const config = await Deno.readTextFile(join(dir, "config"));
      const role = /^CONFIG_KTCIODD=y$/m.test(config)
        ? "L2"
        : /^CONFIG_KVM_TCIODD=y$/m.test(config)
        ? "L1 TESTDEVICE on"
        : "L1 TESTDEVICE off";
      out[role] = meta.seconds;
    } catch {
      // Not a whole kernel entry.
    }
  }
  return out;
}

/** A copy of the repository's kernel/ directory to edit, in `dir`. */
async function kernelCopy(repo: string, dir: string): Promise<string> {
  await Deno.mkdir(dir, { recursive: true });
  const r = await run("cp", ["-a", join(repo, "kernel"), dir]);
  if (r.code !== 0) throw new Error(`Cannot copy ${repo}/kernel: ${r.stderr}`);
  return dir;
}

/** Edits the guest driver so that it compiles to different code (a developer's change). */
export async function editDriver(repo: string, stamp: string): Promise<void> {
  const path = join(repo, "kernel/drivers/misc/tciodd/ktciodd.c");
  const text = (await Deno.readTextFile(path)).split("\nstatic const char ktciodd_bench")[0];
  await Deno.writeTextFile(
    path,
    `${text.trimEnd()}\n\nstatic const char ktciodd_bench[] __used = "${stamp}";\n`,
  );
}

/** Builds one kernel and splits its time into make and tree sync. */
async function timedBuild(
  b: KernelBuilder,
  spec: KernelSpec,
  tarball: string,
): Promise<IncrementalBuild> {
  const spans = new SpanRecorder();
  try {
    const t0 = performance.now();
    const k = await b.build(spec, tarball);
    const seconds = (performance.now() - t0) / 1000;
    if (k.cached) throw new Error(`Expected a rebuild of ${k.key}, got a cache hit`);
    const of = (names: string[]) =>
      unionLength(
        spans.spans.filter((s) => names.some((n) => s.cmd.endsWith(n)))
          .map((s) => [s.start, s.end] as const),
      ) / 1000;
    return {
      seconds,
      makeSeconds: of(["make"]),
      syncSeconds: of(["cp", "prepare-tree.sh", "rsync"]),
    };
  } finally {
    spans.stop();
  }
}

/** Runs the cell benchmarks (see the module comment). */
export async function benchCell(o: CellBenchOptions): Promise<CellBench> {
  const out: CellBench = {
    warm: [],
    timelines: [],
    warmProcessSeconds: [],
    smokeAfterEdit: [],
    driverOnly: [],
    skipped: [],
    runs: [],
  };
  const { on, off } = await smokeCells(o.repo);
  const env = (cache: string) => ({ VTCIO_CACHE: cache, VTCIO_RESULTS: o.results });
  const keep = (m: MatrixRun) => {
    out.runs.push(m.dir);
    return m;
  };

  if (o.quick) {
    const tarball = o.tarballs[on.kernel];
    const b = new KernelBuilder({ repo: o.repo, cache: o.cache });
    const frags = kernelFragments(on, o.repo);
    const hit = tarball &&
      (await b.lookup({ version: on.kernel, fragments: frags.l1 }, tarball)) &&
      (await b.lookup({ version: on.kernel, fragments: frags.l2 }, tarball));
    if (!hit) {
      out.skipped.push(
        `warm cell: the kernels of ${on.id} are not in ${o.cache} (run the smoke matrix first)`,
      );
      return out;
    }
    const m = keep(
      await runMatrix(
        o.repo,
        [SMOKE, "--only", `id=${on.id}`, "--retry", "0"],
        env(o.cache),
        o.log,
      ),
    );
    out.warm.push(runStats(m.record));
    out.timelines.push(...await runTimelines(m.dir, m.record.cells.map((c) => c.id)));
    out.warmProcessSeconds.push(m.seconds);
    return out;
  }

  const cache = await Deno.makeTempDir({ prefix: "vtcio-bench-cold-" });
  const work = await Deno.makeTempDir({ prefix: "vtcio-bench-repo-" });
  try {
    // Cold: everything from nothing. One job, so that each cell's phases are its own (builds
    // run one at a time in any case); the TESTDEVICE-off cell then finds L2 and the images
    // ready and builds only its L1, a TESTDEVICE flip.
    const cold = keep(await runMatrix(o.repo, [SMOKE, "--jobs", "1"], env(cache), o.log));
    out.cold = runStats(cold.record);
    out.coldProcessSeconds = cold.seconds;
    out.coldOn = cold.record.cells.find((c) => c.id === on.id)?.timings;
    out.coldOff = cold.record.cells.find((c) => c.id === off.id)?.timings;
    out.coldKernels = await coldKernelSeconds(cache);

    for (let i = 0; i < o.repeats; i++) {
      const warm = keep(await runMatrix(o.repo, [SMOKE], env(cache), o.log));
      out.warm.push(runStats(warm.record));
      out.timelines.push(...await runTimelines(warm.dir, warm.record.cells.map((c) => c.id)));
      out.warmProcessSeconds.push(warm.seconds);
    }

    // Incremental: a copy of kernel/ whose guest driver is edited before each repeat.
    const repo = await kernelCopy(o.repo, work);
    const tarball = o.tarballs[on.kernel];
    const fOn = kernelFragments(on, repo);
    const fOff = kernelFragments(off, repo);
    const spec = (fragments: string[]) => ({ version: on.kernel, fragments });
    const builder = () => new KernelBuilder({ repo, cache });
    // The three smoke configurations share one build directory (they differ in a few options),
    // so each repeat first rebuilds them as a smoke run after an edit does (L1 on, L1 off, L2),
    // then edits again and rebuilds L2 alone: the kernel that holds the driver, nothing else
    // changed.
    for (let i = 1; i <= o.incrementalRepeats; i++) {
      const stamp = crypto.randomUUID().slice(0, 8);
      await editDriver(repo, `bench-${i}-${stamp}`);
      o.log(`incremental ${i}: L1 on, L1 off and L2 after a driver edit, then L2 alone`);
      out.smokeAfterEdit.push([
        await timedBuild(builder(), spec(fOn.l1), tarball),
        await timedBuild(builder(), spec(fOff.l1), tarball),
        await timedBuild(builder(), spec(fOn.l2), tarball),
      ]);
      await editDriver(repo, `bench-${i}-${stamp}-again`);
      out.driverOnly.push(await timedBuild(builder(), spec(fOn.l2), tarball));
    }
  } finally {
    await Deno.remove(cache, { recursive: true }).catch(() => {});
    await Deno.remove(work, { recursive: true }).catch(() => {});
  }
  return out;
}
