/**
 * Turns what a cell left behind (build status, consoles, KTAP) into its outcome.
 *
 * Rules, first match wins: skip, build error, infrastructure error, crash on either console (a
 * crash beats a timeout: the timeout is usually its effect), console flood (a failure of the
 * guest: it printed more than the runner keeps), timeout, then the judgement of the tests, where a cell expected to fail turns "fail" into "xfail" and "pass" into "xpass".
 *
 * @module
 */

import type { CrashKind, CrashReport } from "./crash_detect.ts";
import type { Cell, Outcome, Phase } from "./types.ts";
import type { TestResult } from "./types.ts";

/**
 * Which serial console a crash was seen on: L1's, L2's, or the second L2 guest's that L1
 * relays in the two-guests scenario.
 */
export type ConsoleName = "l1" | "l2" | "l2b";

/** A crash report with the console it came from. */
export interface ConsoleCrash extends CrashReport {
  console: ConsoleName;
  /** Phase the cell was in when the report appeared, if the runner knows it. */
  phase?: Phase;
}

/** Everything the runner learnt about one cell, for {@linkcode classify}. */
export interface CellEvidence {
  /** Set when the cell was not run (e.g. its kernel cannot be built on this host). */
  skipReason?: string;
  /** First line(s) of the build failure. */
  buildError?: string;
  /** A failure of the harness rather than of the code under test (QEMU missing, disk full...). */
  infraError?: string;
  /** Set when a phase ran out of time. */
  timeout?: { phase: Phase; seconds: number };
  /** Set when a console printed more than the runner keeps: the guest was stopped. */
  flood?: { console: ConsoleName; bytes: number; phase: Phase };
  /** Crash reports found on both consoles. */
  crashes: ConsoleCrash[];
  /** KTAP results of the guest client(s). */
  tests: TestResult[];
  /** Whether the KTAP plan(s) were satisfied. */
  ktapComplete: boolean;
  /** Why the KTAP was incomplete (KtapReport.problems), to explain a failure. */
  ktapProblems?: string[];
  /** Facts reported by the guest, e.g. `support` from "# vtcio: support=...". */
  facts: Record<string, string>;
  /** Last phase the cell entered: the phase blamed for an infrastructure error or a crash. */
  phase?: Phase;
  /**
   * Options the cell's config fragments asked for that its kernels lack, e.g.
   * "L1 CONFIG_KVM_TCIODD=y (final .config: not set)": named in the reason of a failure.
   */
  droppedOptions?: string[];
}

/** The verdict on one cell. */
export interface Classification {
  outcome: Outcome;
  /** One line, starting with a capital, no trailing period. */
  reason: string;
  phase?: Phase;
}

const UNEXPECTED: ReadonlySet<Outcome> = new Set<Outcome>([
  "fail",
  "error",
  "build-error",
  "timeout",
  "crash",
  "xpass",
]);

/** Whether an outcome should fail the run (and be offered a rerun command). */
export function isUnexpected(outcome: Outcome): boolean {
  return UNEXPECTED.has(outcome);
}

const CRASH_LABELS: Record<CrashKind, string> = {
  "panic": "Kernel panic",
  "oops": "Oops",
  "bug": "Kernel BUG",
  "warning": "Kernel WARNING",
  "kasan": "KASAN report",
  "kfence": "KFENCE report",
  "kcsan": "KCSAN data race",
  "ubsan": "UBSAN report",
  "lockdep": "Lockdep report",
  "kmemleak": "Memory leak",
  "soft-lockup": "Soft lockup",
  "hard-lockup": "Hard lockup",
  "hung-task": "Hung task",
  "rcu-stall": "RCU stall",
  "init-killed": "Init killed",
};

/** A human name for a crash kind, e.g. "Kernel panic". */
export function crashLabel(kind: CrashKind): string {
  return CRASH_LABELS[kind];
}

/**
 * The lines to store in CellResult.crash: each report's trace under a header naming its kind
 * and console, L1 reports first.
 */
export function crashLines(crashes: ConsoleCrash[]): string[] {
  const lines: string[] = [];
  for (const crash of orderCrashes(crashes)) {
    lines.push(`${crashLabel(crash.kind)} on the ${crash.console.toUpperCase()} console:`);
    lines.push(...crash.trace);
  }
  return lines;
}

/**
 * Decides the outcome of a cell from its evidence. When the cell failed, ran into a timeout,
 * crashed or passed unexpectedly and its kernels lack an option a config fragment asked for,
 * the reason says so: a misspelt or unmet option is the first thing to suspect.
 */
export function classify(cell: Cell, ev: CellEvidence): Classification {
  const verdict = judge(cell, ev);
  const dropped = ev.droppedOptions ?? [];
  const testable = verdict.outcome !== "build-error" && verdict.outcome !== "error";
  if (dropped.length === 0 || !isUnexpected(verdict.outcome) || !testable) return verdict;
  const more = dropped.length > 1 ? ` (and ${dropped.length - 1} more)` : "";
  return {
    ...verdict,
    reason: `${verdict.reason}; a config fragment asked for ${dropped[0]}${more}`,
  };
}

function judge(cell: Cell, ev: CellEvidence): Classification {
  if (ev.skipReason !== undefined) return { outcome: "skip", reason: oneLine(ev.skipReason) };
  if (ev.buildError !== undefined) {
    return {
      outcome: "build-error",
      reason: `Build failed: ${oneLine(ev.buildError)}`,
      phase: "build",
    };
  }
  if (ev.infraError !== undefined) {
    return withPhase({ outcome: "error", reason: oneLine(ev.infraError) }, ev.phase);
  }
  if (ev.crashes.length > 0) {
    const [first, ...others] = orderCrashes(ev.crashes);
    const more = others.length === 0 ? "" : ` (and ${others.length} more)`;
    const reason = `${crashLabel(first.kind)} on the ${first.console.toUpperCase()} console: ${
      truncate(first.summary, 160)
    }${more}`;
    return withPhase({ outcome: "crash", reason }, first.phase ?? ev.timeout?.phase ?? ev.phase);
  }
  if (ev.flood !== undefined) {
    const mib = (ev.flood.bytes / (1024 * 1024)).toFixed(0);
    return {
      outcome: "fail",
      reason: `Console flood on the ${ev.flood.console.toUpperCase()} console: more than ${mib} ` +
        `MiB, the guest was stopped`,
      phase: ev.flood.phase,
    };
  }
  if (ev.timeout !== undefined) {
    return {
      outcome: "timeout",
      reason: `Timed out in ${ev.timeout.phase} after ${ev.timeout.seconds} s`,
      phase: ev.timeout.phase,
    };
  }
  const verdict = judgeTests(cell, ev);
  if (cell.expect.outcome !== "fail") return verdict;
  const why = cell.expect.reason === undefined ? "" : ` (${cell.expect.reason})`;
  if (verdict.outcome === "fail") {
    return { outcome: "xfail", reason: `Failed as expected${why}: ${verdict.reason}` };
  }
  return { outcome: "xpass", reason: `Passed but was expected to fail${why}` };
}

function judgeTests(cell: Cell, ev: CellEvidence): Classification {
  const fail = (reason: string): Classification => ({ outcome: "fail", reason });
  if (ev.tests.length === 0 && !ev.ktapComplete) return fail("No test results");
  const support = ev.facts.support;
  if (support !== undefined && support !== cell.expect.support) {
    return fail(
      `Expected the host to be ${cell.expect.support}, the guest client found ${support}`,
    );
  }
  const failed = ev.tests.filter((t) => t.status === "not ok");
  if (failed.length > 0) {
    const shown = failed.slice(0, 3).map((t) => t.name).join(", ");
    const rest = failed.length > 3 ? ` and ${failed.length - 3} more` : "";
    return fail(`${failed.length} of ${ev.tests.length} tests failed: ${shown}${rest}`);
  }
  if (!ev.ktapComplete) {
    const detail = ev.ktapProblems?.[0];
    return fail(
      `Incomplete test output after ${ev.tests.length} results${
        detail === undefined ? "" : `: ${detail}`
      }`,
    );
  }
  if (support === undefined) {
    return fail(
      `Expected the host to be ${cell.expect.support}, the guest client did not report support`,
    );
  }
  const skipped = ev.tests.filter((t) => t.status === "skip").length;
  const counts = skipped === 0 ? "" : `, ${skipped} skipped`;
  return {
    outcome: "pass",
    reason: `${ev.tests.length} tests, host ${support}${counts}`,
  };
}

/** L1 reports first (a host bug explains a guest crash more often than the reverse). */
function orderCrashes(crashes: ConsoleCrash[]): ConsoleCrash[] {
  return [
    ...crashes.filter((c) => c.console === "l1"),
    ...crashes.filter((c) => c.console !== "l1"),
  ];
}

function withPhase(result: Classification, phase: Phase | undefined): Classification {
  return phase === undefined ? result : { ...result, phase };
}

function oneLine(text: string): string {
  const first = text.split("\n").map((l) => l.trim()).find((l) => l !== "") ?? "";
  return truncate(first.replace(/\.$/, ""), 200);
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 3)}...`;
}
