import { assertEquals, assertMatch } from "./test_assert.ts";
import {
  benchMarkdown,
  type BenchReport,
  type BenchRow,
  cellRows,
  launchRows,
  mergeReports,
  pvRows,
  runRows,
  updateBenchmarksMd,
} from "./bench.ts";
import type { CellBench } from "./bench_cell.ts";
import { parsePvLine } from "./bench_pv.ts";
import type { RunStats } from "./bench_runs.ts";

const report = (rows: BenchRow[], extra: Partial<BenchReport> = {}): BenchReport => ({
  date: "2026-12-03T00:00:00Z",
  quick: false,
  machine: { cores: "2", cpu: "x", accel: "tcg", deno: "2.9.6", os: "linux x86_64" },
  measured: ["scale"],
  rows,
  runs: [],
  data: {},
  ...extra,
});

Deno.test("bench: BENCHMARKS.md keeps its prose and replaces only the generated tables", () => {
  const table = benchMarkdown(report([
    { section: "scale", name: "x", value: 1.5, unit: "s", target: "< 5 s", met: true },
  ]));
  assertMatch(table, /### The runner at scale/);
  assertMatch(table, /\| x \| 1\.500 s \| < 5 s \(met\) \|/);
  const first = updateBenchmarksMd("# Benchmarks\n\nWhy the numbers are what they are.\n", table);
  const second = updateBenchmarksMd(first, table.replace("1.500", "2.000"));
  assertMatch(second, /Why the numbers are what they are\./);
  assertMatch(second, /2\.000 s/);
  assertEquals(second.includes("1.500"), false);
});

Deno.test("bench: a run read from two places is listed once under the tables", () => {
  const table = benchMarkdown(report([{ section: "scale", name: "x", value: 1, unit: "s" }], {
    runs: ["results/20261203T150121Z-09c8", "/h/20261203T141315Z-af5a", "/m/20261203T141315Z-af5a"],
  }));
  assertMatch(
    table,
    /Runs behind these figures: 20261203T150121Z-09c8, 20261203T141315Z-af5a\.\n$/,
  );
});

Deno.test("bench: a run of some sections keeps the other sections' rows from the last one", () => {
  const old = report([
    { section: "pv", name: "old pv", value: 1, unit: "ms" },
    { section: "scale", name: "old plan", value: 9, unit: "s" },
  ], { measured: ["pv", "scale"], date: "2026-12-01T00:00:00Z", runs: ["results/a"] });
  const now = report([{ section: "scale", name: "new plan", value: 2, unit: "s" }], {
    runs: ["results/b"],
  });
  const merged = mergeReports(now, old);
  assertEquals(merged.rows.map((r) => r.name), ["old pv", "new plan"]);
  assertEquals(merged.runs, ["results/a", "results/b"]);
  assertMatch(merged.machine.note, /sections pv from the run of 2026-12-01/);
  assertEquals(mergeReports(now, undefined).rows, now.rows);
});

Deno.test("bench: each section keeps the date it was measured through later partial runs", () => {
  const first = mergeReports(
    report([
      { section: "pv", name: "pv", value: 1, unit: "ms" },
      { section: "scale", name: "plan", value: 9, unit: "s" },
    ], { measured: ["pv", "scale"], date: "2026-12-01T00:00:00Z" }),
  );
  assertEquals(first.sections, { pv: "2026-12-01T00:00:00Z", scale: "2026-12-01T00:00:00Z" });
  const second = mergeReports(
    report([{ section: "phases", name: "cell", value: 16, unit: "s" }], {
      measured: ["phases"],
      date: "2026-12-02T00:00:00Z",
    }),
    first,
  );
  const third = mergeReports(
    report([{ section: "runs", name: "nightly", value: 6000, unit: "s" }], {
      measured: ["runs"],
      date: "2026-12-03T00:00:00Z",
    }),
    second,
  );
  assertEquals(third.sections, {
    phases: "2026-12-02T00:00:00Z",
    pv: "2026-12-01T00:00:00Z",
    scale: "2026-12-01T00:00:00Z",
    runs: "2026-12-03T00:00:00Z",
  });
  assertEquals(
    third.machine.note,
    "sections pv, scale from the run of 2026-12-01T00:00:00Z; phases from the run of " +
      "2026-12-02T00:00:00Z",
  );
});

const stats = (extra: Partial<RunStats> = {}): RunStats => ({
  runId: "20261203T100000Z-0001",
  matrix: "smoke",
  status: "complete",
  cells: 2,
  outcomes: { pass: 2 },
  wallSeconds: 40,
  cellsPerHour: 180,
  retries: 0,
  phaseMedians: { build: 0.2, image: 0.1, l1_boot: 3, l2_boot: 5, clients: 6 },
  phaseTotals: {},
  cellMedian: 17,
  builtCells: 0,
  ...extra,
});

Deno.test("bench: a finished run gives wall time, cells per hour and the runner's overhead", () => {
  const rows = runRows(
    "nightly",
    stats({
      runner: {
        wall_s: 41,
        qemu_s: 30,
        compiler_s: 0,
        overhead_s: 11,
        tools_s: 1,
        own_s: 10,
        programs: { qemu: 2, compiler: 0, tool: 9 },
      },
    }),
  );
  assertEquals(rows.map((r) => [r.name, r.value]), [
    ["nightly: wall time", 40],
    ["nightly: cells per hour", 180],
    ["nightly: runner overhead (neither QEMU nor a compiler running)", 11],
  ]);
  assertMatch(rows[0].detail!, /2 cells \(2 pass\), 0 retries; 0 cells compiled kernels/);
  assertEquals(rows.map((r) => r.section), ["matrix", "matrix", "matrix"]);
});

Deno.test("bench: a given run says how many cells compiled kernels and whose times were summed", () => {
  const runner = {
    wall_s: 5000,
    qemu_s: 2000,
    compiler_s: 2800,
    overhead_s: 200,
    tools_s: 150,
    own_s: 50,
    programs: { qemu: 30, compiler: 90, tool: 120 },
  };
  const rows = runRows(
    "nightly, run 20261203T170552Z-deaa",
    stats({ builtCells: 12, phaseTotals: { build: 2804.26 }, runner, runnerParts: 2 }),
    "runs",
  );
  assertEquals(rows.map((r) => r.section), ["runs", "runs", "runs"]);
  assertMatch(rows[0].detail!, /12 cells compiled kernels \(build phases 2804\.3 s in all\)/);
  assertMatch(rows[2].detail!, /^of 5000 s \(its 2 shards' summed\): QEMU 2000 s/);
});

Deno.test("bench: cell rows show each measured phase, the steps of the boot and the reference", () => {
  const c: CellBench = {
    warm: [stats(), stats({ cellMedian: 19 })],
    timelines: [{ l1_init: 2, total: 12 }, { l1_init: 4, total: 14 }],
    warmProcessSeconds: [41, 43],
    smokeAfterEdit: [],
    driverOnly: [{ seconds: 30, makeSeconds: 20, syncSeconds: 9 }],
    skipped: [],
    runs: [],
  };
  const rows = cellRows(c, 8.6);
  const value = (name: RegExp) => rows.find((r) => name.test(r.name))?.value;
  assertEquals(value(/^L1 boot to init/), 3);
  assertEquals(value(/^whole nested cycle/), 13);
  assertEquals(value(/^smoke cell, warm, start to verdict/), 18);
  assertEquals(value(/after touching only the guest driver/), 30);
  assertEquals(rows.find((r) => /^whole nested cycle/.test(r.name))?.target, "8.6 s (empty cycle)");
  assertEquals(rows.some((r) => /cold/.test(r.name)), false, "nothing cold was measured");
});

Deno.test("bench: pv rows give each path's latency and the ratio against vsock", () => {
  const l = (path: string, p50: number) =>
    parsePvLine(
      `vtcio-bench: path=${path} size=1024 clients=4 requests=10 errors=0 seconds=2 ` +
        `rps=${1e6 / p50} mbps=1 p50_us=${p50} p99_us=${p50 * 2}`,
    )!;
  const rows = pvRows([[l("ktciodd0", 2000), l("vsock", 1000)]], ["r1"]);
  assertEquals(rows.map((r) => r.name), [
    "1 KiB x4 (a) guest -> ktcioDD -> tcService: latency p50",
    "1 KiB x4 (c) guest -> virtio-vsock -> echo in L1: latency p50",
    "1 KiB x4: ktcioDD / vsock, latency p50",
  ]);
  assertEquals([rows[2].value, rows[2].met], [2, false]);
  assertEquals(pvRows([], ["r1"])[0].name, "not measured");
});

Deno.test("bench: launch rows name the cache mode and whether the cache was cold", () => {
  const rows = launchRows([
    { mode: "none", n: 1, boots: 3, firstLine: 4, init: 9, exit: 10 },
    { mode: "loose", n: 2, boots: 3, firstLine: 1, init: 5, exit: 6 },
  ]);
  assertEquals(rows.map((r) => [r.name, r.value]), [
    [
      "L2 launch to L2's init, QEMU's root over 9p cache=none, launch 1 (cache cold, as in a cell)",
      9,
    ],
    ["L2 launch to L2's init, QEMU's root over 9p cache=loose, launch 2 (cache warm)", 5],
  ]);
});
