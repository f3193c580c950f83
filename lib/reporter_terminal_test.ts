import assert from "node:assert/strict";
import { defaultRerunCommand, shellQuote, TerminalReporter } from "./reporter_terminal.ts";
import { summarize } from "./summary.ts";
import type { Cell, CellResult, Outcome } from "./types.ts";

function cell(id: string): Cell {
  return { id } as Cell;
}

function result(id: string, outcome: Outcome, reason: string): CellResult {
  return {
    id,
    outcome,
    reason,
    tests: [],
    timings: { build: 60, l1_boot: 30 },
    logs: {},
    attempts: 1,
    flaky: false,
    facts: {},
    started: "2026-11-25T03:15:00.000Z",
    finished: "2026-11-25T03:16:30.000Z",
  };
}

/** A fake clock and an output capture. */
function harness() {
  const clock = { ms: 1_000_000 };
  const out: string[] = [];
  return {
    clock,
    out,
    now: () => clock.ms,
    write: (text: string) => out.push(text),
    text: () => out.join(""),
  };
}

/** Replays output on a virtual screen that understands the few escapes the reporter uses. */
function screen(output: string): string[] {
  const lines: string[] = [""];
  let row = 0;
  let col = 0;
  // deno-lint-ignore no-control-regex
  const tokens = output.match(/\x1b\[\d*[A-Za-z]|\r|\n|[^\x1b\r\n]+/g) ?? [];
  for (const token of tokens) {
    if (token === "\n") {
      row++;
      col = 0;
      if (lines[row] === undefined) lines[row] = "";
    } else if (token === "\r") {
      col = 0;
    } else if (token.startsWith("\x1b[")) {
      const n = Number(token.slice(2, -1) || "1");
      if (token.endsWith("A")) row = Math.max(0, row - n);
      if (token.endsWith("J")) {
        lines[row] = lines[row].slice(0, col);
        lines.length = row + 1;
      }
    } else {
      const line = lines[row].padEnd(col);
      lines[row] = line.slice(0, col) + token + line.slice(col + token.length);
      col += token.length;
    }
  }
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}

const A = cell("6.1-td-on-l1smp1-l2smp1-busybox");
const B = cell("6.6-td-off-l1smp2-l2smp2-debian");

Deno.test("TerminalReporter prints one plain line per event off a terminal", () => {
  const h = harness();
  const reporter = new TerminalReporter({
    matrixFile: "matrix/default.yaml",
    live: false,
    columns: 0,
    write: h.write,
    now: h.now,
  });
  reporter.onBegin({
    runId: "20261125T031500Z-1a2b",
    runDir: "results/20261125T031500Z-1a2b",
    cells: [A, B],
  });
  reporter.onCellStart(A);
  h.clock.ms += 12_000;
  reporter.onCellPhase(A, "l1_boot");
  h.clock.ms += 50_000;
  reporter.onCellEnd(A, result(A.id, "pass", "12 tests, host supported"));
  reporter.onCellStart(B);
  reporter.onCellEnd(B, result(B.id, "crash", "Kernel panic on the L2 console: Fatal exception"));
  assert.equal(
    h.text(),
    [
      "Run 20261125T031500Z-1a2b: 2 cells, results in results/20261125T031500Z-1a2b",
      "[00:00] 6.1-td-on-l1smp1-l2smp1-busybox: start",
      "[00:12] 6.1-td-on-l1smp1-l2smp1-busybox: l1_boot",
      "[01:02] 6.1-td-on-l1smp1-l2smp1-busybox: PASS in 1m02s (1/2): 12 tests, host supported",
      "[01:02] 6.6-td-off-l1smp2-l2smp2-debian: start",
      "[01:02] 6.6-td-off-l1smp2-l2smp2-debian: CRASH in 0s (2/2): Kernel panic on the L2 console: Fatal exception",
      "",
    ].join("\n"),
  );
  assert.ok(!h.text().includes("\x1b"), "No escape sequences off a terminal");
});

Deno.test("TerminalReporter ends with a summary table and rerun commands", () => {
  const h = harness();
  const reporter = new TerminalReporter({
    matrixFile: "matrix/default.yaml",
    live: false,
    columns: 0,
    write: h.write,
    now: h.now,
  });
  const results = [
    result(A.id, "pass", "12 tests, host supported"),
    result(B.id, "timeout", "Timed out in l2_boot after 240 s"),
    result("4.19-td-on", "xfail", "Failed as expected"),
  ];
  reporter.onBegin({ runId: "r1", runDir: "results/r1", cells: [A, B], previous: [results[2]] });
  h.out.length = 0;
  reporter.onEnd(
    summarize({
      runId: "r1",
      runDir: "results/r1",
      status: "interrupted",
      results,
      planned: [A.id, B.id, "4.19-td-on", "5.15-td-on"],
      seconds: 843,
    }),
  );
  assert.equal(
    h.text(),
    [
      "",
      "Run r1 interrupted in 14m03s",
      "  OUTCOME      TIME    CELL                             REASON",
      "  PASS         1m30s   6.1-td-on-l1smp1-l2smp1-busybox  12 tests, host supported",
      "  TIMEOUT      1m30s   6.6-td-off-l1smp2-l2smp2-debian  Timed out in l2_boot after 240 s",
      "  XFAIL        1m30s   4.19-td-on                       Failed as expected",
      "3 cells: 1 pass, 1 xfail, 1 timeout",
      "Not run: 1 cell (interrupted)",
      "Results: results/r1 (run.json, junit.xml)",
      "",
      "1 unexpected outcome; rerun a cell with:",
      "  deno task matrix run matrix/default.yaml --only id=6.6-td-off-l1smp2-l2smp2-debian  # timeout",
      "",
    ].join("\n"),
  );
});

Deno.test("TerminalReporter takes the rerun command from its caller", () => {
  const h = harness();
  const reporter = new TerminalReporter({
    matrixFile: "m.yaml",
    rerunCommand: (id) => `vtcio rerun ${id}`,
    live: false,
    columns: 0,
    write: h.write,
    now: h.now,
  });
  reporter.onEnd(
    summarize({
      runId: "r",
      runDir: "d",
      status: "complete",
      results: [result("x", "fail", "1 of 1 tests failed: probe")],
      seconds: 1,
    }),
  );
  assert.match(h.text(), /\n {2}vtcio rerun x {2}# fail\n$/);
});

Deno.test("TerminalReporter draws a live view of running cells with an ETA", () => {
  const h = harness();
  const reporter = new TerminalReporter({
    matrixFile: "m.yaml",
    live: true,
    columns: 100,
    color: false,
    refreshMs: 0,
    write: h.write,
    now: h.now,
  });
  const C = cell("5.15-td-on-l1smp1-l2smp1-busybox");
  reporter.onBegin({ runId: "r", runDir: "results/r", cells: [A, B, C] });
  reporter.onCellStart(A);
  reporter.onCellStart(B);
  reporter.onCellPhase(A, "l2_boot");
  h.clock.ms += 100_000;
  reporter.onCellEnd(A, result(A.id, "pass", "12 tests, host supported"));
  h.clock.ms += 20_000;
  reporter.onCellPhase(B, "clients");
  assert.deepEqual(screen(h.text()), [
    "Run r: 3 cells, results in results/r",
    "PASS        6.1-td-on-l1smp1-l2smp1-busybox  1m40s  12 tests, host supported",
    // B has 120 s behind it, the average is 100 s: C still needs 100 s over 2 workers.
    "[1/3] 1 running · 1 pass · 2m00s elapsed · ETA 50s",
    "  6.6-td-off-l1smp2-l2smp2-debian  clients   2m00s",
  ]);
  h.clock.ms += 5_000;
  reporter.onCellEnd(B, result(B.id, "fail", "No test results"));
  reporter.onEnd(
    summarize({ runId: "r", runDir: "results/r", status: "complete", results: [], seconds: 125 }),
  );
  const final = screen(h.text());
  assert.deepEqual(final.slice(0, 4), [
    "Run r: 3 cells, results in results/r",
    "PASS        6.1-td-on-l1smp1-l2smp1-busybox  1m40s  12 tests, host supported",
    "FAIL        6.6-td-off-l1smp2-l2smp2-debian  2m05s  No test results",
    "",
  ]);
  assert.ok(!final.some((l) => l.includes("running")), "The live block is gone");
});

Deno.test("TerminalReporter fits live lines to the terminal width and colours outcomes", () => {
  const h = harness();
  const reporter = new TerminalReporter({
    matrixFile: "m.yaml",
    live: true,
    columns: 40,
    color: true,
    refreshMs: 0,
    write: h.write,
    now: h.now,
  });
  reporter.onBegin({ runId: "r", runDir: "results/r", cells: [A] });
  reporter.onCellStart(A);
  reporter.onCellEnd(A, result(A.id, "crash", "Kernel panic on the L1 console: something long"));
  assert.ok(h.text().includes(`\x1b[31m${"CRASH".padEnd(11)}\x1b[0m`), "CRASH in red");
  for (const line of screen(h.text())) {
    // deno-lint-ignore no-control-regex
    assert.ok(line.replace(/\x1b\[\d+m/g, "").length <= 39, `Too wide: ${line}`);
  }
});

Deno.test("TerminalReporter redraws on a timer, not on every event", async () => {
  const h = harness();
  const reporter = new TerminalReporter({
    matrixFile: "m.yaml",
    live: true,
    columns: 80,
    color: false,
    refreshMs: 20,
    write: h.write,
    now: h.now,
  });
  reporter.onBegin({ runId: "r", runDir: "results/r", cells: [A] });
  reporter.onCellStart(A);
  const writes = h.out.length;
  for (let i = 0; i < 100; i++) reporter.onCellPhase(A, i % 2 === 0 ? "l1_boot" : "l2_boot");
  assert.equal(h.out.length, writes, "Events alone write nothing");
  await new Promise((resolve) => setTimeout(resolve, 70));
  assert.ok(h.out.length > writes, "The timer redrew");
  assert.ok(h.out.length <= writes + 2, "Only when something changed or a second passed");
  assert.match(screen(h.text()).join("\n"), /l2_boot/);
  reporter.onEnd(
    summarize({ runId: "r", runDir: "results/r", status: "complete", results: [], seconds: 0 }),
  );
  const after = h.out.length;
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(h.out.length, after, "No redraw after the end");
});

Deno.test("defaultRerunCommand() quotes what a shell would split", () => {
  assert.equal(
    defaultRerunCommand("matrix/default.yaml")("6.1-td-on"),
    "deno task matrix run matrix/default.yaml --only id=6.1-td-on",
  );
  assert.equal(shellQuote("my matrix's.yaml"), `'my matrix'\\''s.yaml'`);
});
