import { assertEquals } from "./test_assert.ts";
import { childKind, runnerTimes, SpanRecorder, sumRunnerTimes, unionLength } from "./run_time.ts";
import type { ChildSpan } from "./proc.ts";
import { run } from "./proc.ts";

const span = (cmd: string, start: number, end: number, extra: Partial<ChildSpan> = {}) => ({
  cmd,
  args: [],
  spawned: false,
  start,
  end,
  ...extra,
});

Deno.test("run_time: the union of intervals counts overlaps once", () => {
  assertEquals(unionLength([]), 0);
  assertEquals(unionLength([[0, 10]]), 10);
  assertEquals(unionLength([[0, 10], [5, 15]]), 15);
  assertEquals(unionLength([[20, 30], [0, 10], [2, 3]]), 20);
  assertEquals(unionLength([[0, 10], [10, 20]]), 20);
  assertEquals(unionLength([[5, 5], [7, 6]]), 0, "empty and reversed intervals count nothing");
});

Deno.test("run_time: QEMU guests, compilers, version probes and tools are told apart", () => {
  assertEquals(childKind(span("/usr/bin/qemu-system-x86_64", 0, 1, { spawned: true })), "qemu");
  assertEquals(
    childKind(span("qemu-system-x86_64", 0, 1, { args: ["--version"] })),
    "tool",
    "a probe run to completion is not a guest",
  );
  assertEquals(childKind(span("make", 0, 1, { args: ["-C", "/src", "bzImage"] })), "compiler");
  assertEquals(childKind(span("gcc", 0, 1, { args: ["--version"] })), "tool");
  assertEquals(childKind(span("/k/scripts/kconfig/merge_config.sh", 0, 1)), "compiler");
  assertEquals(childKind(span("rsync", 0, 1)), "tool");
  assertEquals(childKind(span("tar", 0, 1)), "tool");
});

Deno.test("run_time: wall time splits into QEMU, compilers, tools and vtcio's own time", () => {
  // 0-100 ms: two QEMUs (cells in parallel) 10-40 and 30-60, make 50-70, rsync 80-90 and
  // 85-95, nothing else: busy 10-70 (60 ms), tools 80-95 (15 ms), own 100 - 75 = 25 ms.
  const t = runnerTimes([
    span("qemu-system-x86_64", 10, 40, { spawned: true }),
    span("qemu-system-x86_64", 30, 60, { spawned: true }),
    span("make", 50, 70),
    span("rsync", 80, 90),
    span("rsync", 85, 95),
    span("gcc", 96, 200, { args: ["--version"] }),
  ], 100);
  assertEquals(t.wall_s, 0.1);
  assertEquals(t.qemu_s, 0.05);
  assertEquals(t.compiler_s, 0.02);
  assertEquals(t.overhead_s, 0.04);
  assertEquals(t.tools_s, 0.019, "the probe counts as a tool, clipped at the end");
  assertEquals(t.own_s, 0.021);
  assertEquals(t.programs, { qemu: 2, compiler: 1, tool: 3 });
});

Deno.test("run_time: the recorder sees programs run through lib/proc.ts", async () => {
  const rec = new SpanRecorder();
  try {
    const before = performance.now();
    await run("sleep", ["0.2"]);
    assertEquals(rec.spans.length, 1);
    const s = rec.spans[0];
    assertEquals([s.cmd, s.spawned], ["sleep", false]);
    assertEquals(s.start >= before && s.end - s.start >= 190, true, JSON.stringify(s));
    const t = rec.times();
    assertEquals(t.tools_s >= 0.19 && t.wall_s >= t.tools_s + t.own_s - 0.002, true);
  } finally {
    rec.stop();
  }
  await run("true", []);
  assertEquals(rec.spans.length, 1, "nothing is recorded once stopped");
});

Deno.test("run_time: the times of shards run one after another add up", () => {
  const one = {
    wall_s: 1578.382,
    qemu_s: 748.299,
    compiler_s: 611.932,
    overhead_s: 218.151,
    tools_s: 166.081,
    own_s: 52.07,
    programs: { qemu: 15, compiler: 41, tool: 65 },
  };
  const two = {
    wall_s: 1093.466,
    qemu_s: 1055.702,
    compiler_s: 0.009,
    overhead_s: 37.756,
    tools_s: 35.252,
    own_s: 2.503,
    programs: { qemu: 15, compiler: 1, tool: 54 },
  };
  assertEquals(sumRunnerTimes([one, two]), {
    wall_s: 2671.848,
    qemu_s: 1804.001,
    compiler_s: 611.941,
    overhead_s: 255.907,
    tools_s: 201.333,
    own_s: 54.573,
    programs: { qemu: 30, compiler: 42, tool: 119 },
  });
  assertEquals(sumRunnerTimes([one]), one);
  assertEquals(sumRunnerTimes([]), undefined);
});
