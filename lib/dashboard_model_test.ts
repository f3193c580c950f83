import assert from "node:assert/strict";
import {
  cellPlace,
  factValues,
  flipCount,
  gridOf,
  HistoryIndex,
  hostSummary,
  outcomeLook,
  passRate,
  runFacts,
  runSeconds,
} from "./dashboard_model.ts";
import { RUN_SCHEMA, type RunRecord } from "./results.ts";
import { OUTCOMES } from "./summary.ts";
import type { CellResult, Outcome } from "./types.ts";

function cell(id: string, outcome: Outcome, over: Partial<CellResult> = {}): CellResult {
  return {
    id,
    outcome,
    reason: `${outcome} reason`,
    tests: [],
    timings: { build: 30, l1_boot: 10 },
    logs: {},
    attempts: 1,
    flaky: false,
    facts: {},
    started: "2026-11-25T03:15:00.000Z",
    finished: "2026-11-25T03:16:00.000Z",
    ...over,
  };
}

function run(id: string, cells: CellResult[], over: Partial<RunRecord> = {}): RunRecord {
  return {
    schema: RUN_SCHEMA,
    run_id: id,
    matrix: { file: "matrix/nightly.yaml", name: "nightly", sha256: "ab".repeat(32) },
    status: "complete",
    started: "2026-11-25T03:00:00.000Z",
    finished: "2026-11-25T03:42:00.000Z",
    host: {},
    versions: {},
    planned: cells.map((c) => c.id),
    argv: [],
    cells,
    ...over,
  };
}

Deno.test("outcomeLook() gives every outcome a symbol and a word", () => {
  for (const outcome of [...OUTCOMES, "not-run" as const]) {
    const look = outcomeLook(outcome);
    assert.ok(look.symbol.length > 0 && look.text.length > 0, outcome);
    assert.equal(look.cls, `o-${outcome}`);
  }
  assert.deepEqual(outcomeLook("timeout"), { symbol: "⏱", text: "timeout", cls: "o-timeout" });
  assert.equal(outcomeLook("crash").symbol, "💥");
});

Deno.test("cellPlace() and gridOf() lay cells out by kernel×TESTDEVICE and the other axes", () => {
  assert.deepEqual(cellPlace("6.12-td-off-l1smp2-l2smp1-debian-bookworm-kasan-iommu-on"), {
    row: "6.12 · TESTDEVICE off",
    column: "L1×2 L2×1 debian bookworm kasan iommu on",
  });
  assert.deepEqual(cellPlace("weird"), { row: "other", column: "weird" });
  const grid = gridOf([
    "6.1-td-on-l1smp1-l2smp1-busybox",
    "6.1-td-on-l1smp2-l2smp2-busybox",
    "6.1-td-off-l1smp1-l2smp1-busybox",
    "6.12-td-on-l1smp1-l2smp1-busybox",
  ]);
  assert.deepEqual(grid.rows, [
    "6.1 · TESTDEVICE on",
    "6.1 · TESTDEVICE off",
    "6.12 · TESTDEVICE on",
  ]);
  assert.deepEqual(grid.columns, ["L1×1 L2×1 busybox", "L1×2 L2×2 busybox"]);
  assert.equal(
    grid.at.get("6.12 · TESTDEVICE on\nL1×1 L2×1 busybox"),
    "6.12-td-on-l1smp1-l2smp1-busybox",
  );
  assert.equal(grid.at.get("6.12 · TESTDEVICE on\nL1×2 L2×2 busybox"), undefined);
});

Deno.test("cellPlace() and gridOf() take the cell's axis values when its results have them", () => {
  const axes = {
    kernel: "6.1",
    testdevice: true,
    l1_smp: 2,
    l2_smp: 1,
    guest: "debian-bookworm",
    debug: "kasan",
    l2_cpu: "host,-xsave",
    scenario: "fuzz",
  };
  const id = "6.1-td-on-l1smp2-l2smp1-debian-bookworm-kasan-l2cpu-host_-xsave-scenario-fuzz";
  assert.deepEqual(cellPlace(id, axes), {
    row: "6.1 · TESTDEVICE on",
    column: "L1×2 L2×1 debian-bookworm kasan L2 CPU host,-xsave scenario fuzz",
  });
  // Defaults are not repeated; TESTDEVICE off.
  assert.deepEqual(
    cellPlace("x", {
      kernel: "6.12",
      testdevice: false,
      l1_smp: 1,
      l2_smp: 1,
      guest: "busybox",
      debug: "none",
      l2_cpu: "host",
    }),
    { row: "6.12 · TESTDEVICE off", column: "L1×1 L2×1 busybox" },
  );
  // Without axes (older runs) the id is read, losing the comma of the CPU model.
  assert.equal(
    cellPlace(id).column,
    "L1×2 L2×1 debian bookworm kasan l2cpu host_ xsave scenario fuzz",
  );
  const grid = gridOf([id, "6.1-td-off-l1smp1-l2smp1-busybox"], (c) => c === id ? axes : undefined);
  assert.deepEqual(grid.columns, [
    "L1×2 L2×1 debian-bookworm kasan L2 CPU host,-xsave scenario fuzz",
    "L1×1 L2×1 busybox",
  ]);
});

Deno.test("HistoryIndex.axes() finds a cell's axis values in its latest result that has them", () => {
  const withAxes = { ...cell("a", "pass"), axes: { kernel: "6.1", testdevice: true } };
  const index = new HistoryIndex([run("r1", [withAxes]), run("r2", [cell("a", "fail")])]);
  assert.deepEqual(index.axes("a"), { kernel: "6.1", testdevice: true });
  assert.equal(index.axes("b"), undefined);
});

Deno.test("HistoryIndex.changes() lists regressions first, then new failures, fixes, still failing", () => {
  const index = new HistoryIndex([
    run("r1", [
      cell("a", "pass"),
      cell("b", "fail"),
      cell("c", "pass"),
      cell("d", "crash"),
      cell("s", "pass"),
    ]),
    run("r2", [cell("a", "pass"), cell("b", "fail"), cell("s", "skip")]),
    run("r3", [
      cell("e", "timeout"),
      cell("d", "pass"),
      cell("b", "fail"),
      cell("a", "fail"),
      cell("c", "xfail"),
      cell("s", "crash"),
    ]),
  ]);
  const changes = index.changes();
  assert.deepEqual(changes.map((c) => [c.id, c.kind, c.before?.run_id, c.before?.outcome]), [
    ["a", "regression", "r2", "pass"],
    // A skipped result is looked through: s passed in r1.
    ["s", "regression", "r1", "pass"],
    ["e", "new-failure", undefined, undefined],
    // d was not in r2: compared with r1. c went from pass to xfail: no change.
    ["d", "fix", "r1", "crash"],
    ["b", "still-failing", "r2", "fail"],
  ]);
  assert.deepEqual(index.changes(0).map((c) => [c.id, c.kind]), [["b", "new-failure"], [
    "d",
    "new-failure",
  ]]);
  assert.deepEqual(index.allCellIds(), ["e", "d", "b", "a", "c", "s"]);
  assert.deepEqual(index.newCells(), ["e"]);
  assert.deepEqual(index.newCells(1), []);
  assert.deepEqual(index.newCells(0), ["a", "b", "c", "d", "s"]);
  assert.deepEqual(index.track("c").map((r) => r?.outcome), ["pass", undefined, "xfail"]);
});

Deno.test("flipCount(), passRate() and runSeconds() summarise history", () => {
  const o = (outcome: Outcome) => cell("a", outcome);
  assert.equal(flipCount([o("pass"), o("fail"), undefined, o("skip"), o("pass"), o("timeout")]), 3);
  assert.equal(flipCount([o("pass"), o("xfail"), o("pass")]), 0);
  assert.equal(passRate(run("r", [o("pass"), o("xfail"), o("fail"), o("skip")])), 2 / 3);
  assert.equal(passRate(run("r", [o("skip")])), null);
  assert.equal(runSeconds(run("r", [])), 42 * 60);
  assert.equal(runSeconds(run("r", [], { finished: undefined })), null);
});

Deno.test("runFacts() shows kernels, commit, host, accel and duration", () => {
  const record = run("r", [
    cell("a", "pass", { facts: { l1_kernel: "6.1.119", l2_kernel: "6.1.119", accel: "kvm" } }),
    cell("b", "pass", { facts: { l1_kernel: "6.12.5", l2_kernel: "6.12.5", accel: "kvm" } }),
    cell("c", "pass", { facts: { l1_kernel: "6.12.5", accel: "tcg" } }),
  ], {
    versions: { vtcio: "34939a8c0ffee0123456789", deno: "2.9.6" },
    host: {
      cpu: JSON.stringify({ vendor: "GenuineIntel", model: "Xeon E5", vmx: true, svm: false }),
      qemu: JSON.stringify({ path: "/usr/bin/qemu-system-x86_64", found: true, version: "7.2.15" }),
      cores: "4",
      accel: "kvm",
    },
  });
  const facts = Object.fromEntries(runFacts(record));
  assert.equal(facts["L1 kernel"], "6.12.5 (2), 6.1.119 (1)");
  assert.equal(facts["L2 kernel"], "6.1.119 (1), 6.12.5 (1)");
  assert.equal(facts.Accel, "kvm (2), tcg (1)");
  assert.equal(facts.Commit, "34939a8c0ffe");
  assert.equal(facts.Host, "Xeon E5, 4 cores, QEMU 7.2.15");
  assert.equal(facts.Duration, "42m00s");
  assert.equal(facts.Cells, "3 pass of 3 planned");
  assert.equal(hostSummary({ cpu_vendor: "GenuineIntel", nested: "Y" }), "GenuineIntel, nested Y");
  assert.equal(hostSummary({ foo: "bar" }), "foo=bar");
  assert.equal(factValues([], "accel"), "");
  const running = Object.fromEntries(
    runFacts(
      run("r", [], { status: "running", finished: undefined }),
      new Date("2026-11-25T03:05:00Z"),
    ),
  );
  assert.equal(running.Duration, "running for 5m00s");
});
