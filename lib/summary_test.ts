import assert from "node:assert/strict";
import { cellSeconds, countOutcomes, formatCounts, formatDuration, summarize } from "./summary.ts";
import type { CellResult, Outcome } from "./types.ts";

function result(id: string, outcome: Outcome, over: Partial<CellResult> = {}): CellResult {
  return {
    id,
    outcome,
    reason: "",
    tests: [],
    timings: {},
    logs: {},
    attempts: 1,
    flaky: false,
    facts: {},
    started: "2026-11-25T03:15:00.000Z",
    finished: "2026-11-25T03:16:30.000Z",
    ...over,
  };
}

Deno.test("countOutcomes() has every outcome", () => {
  const counts = countOutcomes([result("a", "pass"), result("b", "pass"), result("c", "crash")]);
  assert.equal(counts.pass, 2);
  assert.equal(counts.crash, 1);
  assert.equal(counts["build-error"], 0);
  assert.equal(Object.keys(counts).length, 9);
});

Deno.test("summarize() lists unexpected and unrun cells", () => {
  const summary = summarize({
    runId: "r",
    runDir: "results/r",
    status: "interrupted",
    results: [result("a", "pass"), result("b", "xpass"), result("c", "xfail")],
    planned: ["a", "b", "c", "d"],
    seconds: 12,
  });
  assert.deepEqual(summary.unexpected.map((r) => r.id), ["b"]);
  assert.deepEqual(summary.notRun, ["d"]);
  assert.equal(summary.counts.xfail, 1);
});

Deno.test("cellSeconds() sums timings or falls back to the wall clock", () => {
  assert.equal(cellSeconds(result("a", "pass", { timings: { build: 10, l1_boot: 2.5 } })), 12.5);
  assert.equal(cellSeconds(result("a", "pass")), 90);
  assert.equal(cellSeconds(result("a", "pass", { started: "", finished: "" })), 0);
});

Deno.test("formatDuration() and formatCounts() stay short", () => {
  assert.equal(formatDuration(0), "0s");
  assert.equal(formatDuration(59.4), "59s");
  assert.equal(formatDuration(185), "3m05s");
  assert.equal(formatDuration(3720), "1h02m");
  assert.equal(formatCounts(countOutcomes([])), "nothing");
  assert.equal(
    formatCounts(countOutcomes([result("a", "fail"), result("b", "pass"), result("c", "pass")])),
    "2 pass, 1 fail",
  );
});
