/**
 * Where the wall time of a vtcio process went: in QEMU running guests, in compilers (kernel and
 * userspace builds), in other external tools (tar, rsync, cp...), or in vtcio itself. The spans
 * come from lib/proc.ts ({@linkcode observeChildren}); cells run in parallel, so every figure is
 * the length of a union of intervals, never a sum.
 *
 * "Runner overhead" is the time when neither QEMU nor a compiler was running: what `matrix run`
 * costs beyond the work it exists to do.
 *
 * @module
 */

import { type ChildSpan, observeChildren } from "./proc.ts";

/** What an external program was there for. */
export type ChildKind = "qemu" | "compiler" | "tool";

/** Seconds of a process's wall time, by what was running (run.json `runner`). */
export interface RunnerTimes {
  /** From the process's start to the moment the times were taken. */
  wall_s: number;
  /** Some QEMU ran a guest. */
  qemu_s: number;
  /** Some compiler ran (make, gcc, ld...), version probes aside. */
  compiler_s: number;
  /** Neither QEMU nor a compiler ran: the runner's overhead. */
  overhead_s: number;
  /** Of the overhead, the time in which other external tools ran (tar, rsync, cp...). */
  tools_s: number;
  /** Of the overhead, the time in which no external program ran at all: vtcio's own code. */
  own_s: number;
  /** External programs that ended, by kind. */
  programs: Record<ChildKind, number>;
}

const COMPILERS = new Set([
  "make",
  "gcc",
  "cc",
  "ccache",
  "ld",
  "as",
  "merge_config.sh",
]);

/**
 * What an external program was there for: QEMU when it was spawned to run a guest, compiler for
 * build programs (but not a `--version` probe, which vtcio runs to compute a cache key), else a
 * tool.
 */
export function childKind(span: Pick<ChildSpan, "cmd" | "args" | "spawned">): ChildKind {
  const name = span.cmd.slice(span.cmd.lastIndexOf("/") + 1);
  if (span.spawned && name.startsWith("qemu-system")) return "qemu";
  if (span.args.includes("--version")) return "tool";
  if (COMPILERS.has(name)) return "compiler";
  return "tool";
}

/** Total length of the union of `[start, end]` intervals (overlaps counted once). */
export function unionLength(intervals: ReadonlyArray<readonly [number, number]>): number {
  const sorted = intervals.filter(([a, b]) => b > a).sort((x, y) => x[0] - y[0]);
  let total = 0;
  let curStart = -Infinity;
  let curEnd = -Infinity;
  for (const [a, b] of sorted) {
    if (a > curEnd) {
      if (curEnd > curStart) total += curEnd - curStart;
      curStart = a;
      curEnd = b;
    } else if (b > curEnd) curEnd = b;
  }
  if (curEnd > curStart) total += curEnd - curStart;
  return total;
}

/**
 * The times of `spans` over a wall time that started at 0 and ended at `endMs` (all in
 * `performance.now()` milliseconds). Spans are clipped to `[0, endMs]`.
 */
export function runnerTimes(spans: readonly ChildSpan[], endMs: number): RunnerTimes {
  const of = (kinds: ChildKind[]) =>
    spans.filter((s) => kinds.includes(childKind(s)))
      .map((s) => [Math.max(0, s.start), Math.min(endMs, s.end)] as const);
  const busy = unionLength(of(["qemu", "compiler"]));
  const any = unionLength(of(["qemu", "compiler", "tool"]));
  const programs: Record<ChildKind, number> = { qemu: 0, compiler: 0, tool: 0 };
  for (const s of spans) programs[childKind(s)]++;
  const seconds = (ms: number) => Math.round(ms) / 1000;
  return {
    wall_s: seconds(endMs),
    qemu_s: seconds(unionLength(of(["qemu"]))),
    compiler_s: seconds(unionLength(of(["compiler"]))),
    overhead_s: seconds(endMs - busy),
    tools_s: seconds(any - busy),
    own_s: seconds(endMs - any),
    programs,
  };
}

/**
 * The times of processes that ran one after another (the shards of a nightly on one machine), or
 * side by side on several machines: each figure is the sum of theirs. Undefined for none.
 */
export function sumRunnerTimes(times: readonly RunnerTimes[]): RunnerTimes | undefined {
  if (times.length === 0) return undefined;
  const add = (pick: (t: RunnerTimes) => number) =>
    Math.round(times.reduce((n, t) => n + pick(t), 0) * 1000) / 1000;
  return {
    wall_s: add((t) => t.wall_s),
    qemu_s: add((t) => t.qemu_s),
    compiler_s: add((t) => t.compiler_s),
    overhead_s: add((t) => t.overhead_s),
    tools_s: add((t) => t.tools_s),
    own_s: add((t) => t.own_s),
    programs: {
      qemu: add((t) => t.programs.qemu),
      compiler: add((t) => t.programs.compiler),
      tool: add((t) => t.programs.tool),
    },
  };
}

/**
 * Records the external programs this process runs from now on; {@linkcode SpanRecorder.times}
 * gives the split of the process's wall time so far.
 */
export class SpanRecorder {
  readonly spans: ChildSpan[] = [];
  #stop: () => void;

  constructor() {
    this.#stop = observeChildren((s) => this.spans.push(s));
  }

  /** The times from the process's start until now. */
  times(): RunnerTimes {
    return runnerTimes(this.spans, performance.now());
  }

  /** Stops recording. */
  stop(): void {
    this.#stop();
  }
}
