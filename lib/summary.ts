/**
 * Counting and formatting helpers shared by the reporters: outcome counts, cell durations and
 * the summary handed to `Reporter.onEnd`.
 *
 * @module
 */

import { isUnexpected } from "./classify.ts";
import type { CellResult, Outcome } from "./types.ts";

/** Every outcome, expected ones first: the order used in counts and tables. */
export const OUTCOMES: readonly Outcome[] = [
  "pass",
  "xfail",
  "skip",
  "fail",
  "xpass",
  "error",
  "build-error",
  "timeout",
  "crash",
];

/** How many cells ended with each outcome. */
export type OutcomeCounts = Record<Outcome, number>;

/** How a run ended. */
export type RunEndStatus = "complete" | "interrupted";

/** What `Reporter.onEnd` receives. */
export interface RunSummary {
  runId: string;
  runDir: string;
  status: RunEndStatus;
  /** Every finished cell of the run, including those kept from before a resume. */
  results: CellResult[];
  counts: OutcomeCounts;
  /** Results whose outcome is unexpected (see `isUnexpected`), in run order. */
  unexpected: CellResult[];
  /** Cells planned but without a result (interrupted runs). */
  notRun: string[];
  /** Wall-clock seconds of this session. */
  seconds: number;
}

/** Counts outcomes; every outcome is present, zero when unseen. */
export function countOutcomes(results: Iterable<{ outcome: Outcome }>): OutcomeCounts {
  const counts = Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as OutcomeCounts;
  for (const result of results) counts[result.outcome]++;
  return counts;
}

/** Builds the end-of-run summary. */
export function summarize(run: {
  runId: string;
  runDir: string;
  status: RunEndStatus;
  results: CellResult[];
  planned?: string[];
  seconds: number;
}): RunSummary {
  const done = new Set(run.results.map((r) => r.id));
  return {
    runId: run.runId,
    runDir: run.runDir,
    status: run.status,
    results: run.results,
    counts: countOutcomes(run.results),
    unexpected: run.results.filter((r) => isUnexpected(r.outcome)),
    notRun: (run.planned ?? []).filter((id) => !done.has(id)),
    seconds: run.seconds,
  };
}

/** Seconds a cell took: the sum of its phase timings, else finished minus started. */
export function cellSeconds(result: CellResult): number {
  const timings = Object.values(result.timings).filter((t): t is number => t !== undefined);
  if (timings.length > 0) return timings.reduce((a, b) => a + b, 0);
  const span = (Date.parse(result.finished) - Date.parse(result.started)) / 1000;
  return Number.isFinite(span) && span > 0 ? span : 0;
}

/** "42s", "3m05s", "1h02m". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}

/** "20 pass, 1 xfail, 2 fail": non-zero counts in {@linkcode OUTCOMES} order. */
export function formatCounts(counts: OutcomeCounts): string {
  const parts = OUTCOMES.filter((o) => counts[o] > 0).map((o) => `${counts[o]} ${o}`);
  return parts.length === 0 ? "nothing" : parts.join(", ");
}
