import { assertEquals } from "./test_assert.ts";
import { bootLaunches, launchMedians } from "./bench_boot.ts";

const L1 = [
  "[    10.000] vtcio-l1: l2 start smp=1 cpu=host",
  "[    10.000] vtcio-l1: bench-boot launch 1 cache=none",
  "[    20.000] vtcio-l1: bench-boot exit 1 status=0",
  "[    20.000] vtcio-l1: bench-boot launch 1 cache=loose",
  "[    26.000] vtcio-l1: bench-boot exit 1 status=0",
  "[    26.000] vtcio-l1: bench-boot launch 2 cache=none",
  "[    38.000] vtcio-l1: bench-boot exit 2 status=0",
  "[    38.000] vtcio-l1: bench-boot launch 2 cache=loose",
  "[    40.000] vtcio-l1: bench-boot exit 2 status=1",
].join("\n");
const L2 = [
  "[    14.000] SeaBIOS",
  "[    19.000] vtcio-l2: bench-boot up",
  "[    21.000] SeaBIOS",
  "[    25.000] vtcio-l2: bench-boot up",
  "[    32.000] SeaBIOS",
  "[    37.000] vtcio-l2: bench-boot up",
].join("\n");

Deno.test("bench_boot: each launch is timed from L1's launch line to L2's lines and L1's exit", () => {
  assertEquals(bootLaunches(L1, L2), [
    { mode: "none", n: 1, firstLine: 4, init: 9, exit: 10, status: 0 },
    { mode: "loose", n: 1, firstLine: 1, init: 5, exit: 6, status: 0 },
    { mode: "none", n: 2, firstLine: 6, init: 11, exit: 12, status: 0 },
    { mode: "loose", n: 2, exit: 2, status: 1 },
  ]);
});

Deno.test("bench_boot: medians per mode and launch over boots leave out launches that failed", () => {
  const launches = [
    ...bootLaunches(L1, L2),
    ...bootLaunches(L1, L2.replace("[    14.000]", "[    12.000]")),
  ];
  assertEquals(launchMedians(launches), [
    { mode: "none", n: 1, boots: 2, firstLine: 3, init: 9, exit: 10 },
    { mode: "loose", n: 1, boots: 2, firstLine: 1, init: 5, exit: 6 },
    { mode: "none", n: 2, boots: 2, firstLine: 6, init: 11, exit: 12 },
  ]);
});
