import { assertEquals } from "./test_assert.ts";
import { parsePvLine, type PvSample, pvSamples, summarizePv } from "./bench_pv.ts";
import type { RunRecord } from "./results.ts";

const line = (path: string, size: number, clients: number, p50: number, rps: number, errors = 0) =>
  `vtcio-bench: path=${path} size=${size} clients=${clients} requests=${rps * 2} ` +
  `errors=${errors} seconds=2.000 rps=${rps} mbps=${(rps * size / 1e6).toFixed(3)} ` +
  `p50_us=${p50} p99_us=${p50 * 3}`;

Deno.test("bench_pv: a tcio-bench line parses, other lines do not", () => {
  assertEquals(parsePvLine(line("ktciodd0", 64, 1, 120.5, 800)), {
    path: "ktciodd0",
    size: 64,
    clients: 1,
    requests: 1600,
    errors: 0,
    seconds: 2,
    rps: 800,
    mbps: 0.051,
    p50_us: 120.5,
    p99_us: 361.5,
  });
  // As a KTAP diagnostic, and on a stamped console line.
  assertEquals(parsePvLine(`# ${line("vsock", 8172, 4, 300, 50)}`)?.path, "vsock");
  assertEquals(parsePvLine(`[    12.345] # ${line("vsock", 1, 1, 1, 1)}`)?.size, 1);
  assertEquals(parsePvLine("vtcio: support=supported"), undefined);
  assertEquals(parsePvLine("vtcio-bench: path=x size=64"), undefined, "fields missing");
  assertEquals(parsePvLine(line("x", 64, 1, 1, 1).replace("rps=1", "rps=fast")), undefined);
});

Deno.test("bench_pv: samples come from the tests' diagnostics of every cell", () => {
  const record = {
    cells: [{
      tests: [
        { diagnostics: ["vtcio: support=supported"] },
        { diagnostics: [line("ktciodd0", 64, 1, 100, 900)] },
        { diagnostics: [line("vsock", 64, 1, 50, 1800)] },
      ],
    }],
  } as unknown as RunRecord;
  assertEquals(pvSamples(record).map((s) => s.path), ["ktciodd0", "vsock"]);
});

Deno.test("bench_pv: medians over boots, and ratios taken within each boot", () => {
  const boot = (k: number, v: number, failVsock = false): PvSample[] =>
    [
      line("ktciodd0", 64, 1, k, 1e6 / k),
      line("vsock", 64, 1, v, 1e6 / v, failVsock ? 1 : 0),
      line("tcioDD0", 64, 1, 40, 25000),
    ].map((l) => parsePvLine(l)!);
  // Boot 2 is slow for both paths: the ratio stays 2 though the latencies move.
  const { points, ratios } = summarizePv([boot(200, 100), boot(400, 200), boot(300, 100, true)]);
  const k = points.find((p) => p.path === "ktciodd0")!;
  assertEquals([k.boots, k.p50_us, k.failed], [3, 300, 0]);
  const v = points.find((p) => p.path === "vsock")!;
  assertEquals([v.boots, v.p50_us, v.failed], [2, 150, 1], "a failed measurement is left out");
  assertEquals(points.map((p) => p.path), ["ktciodd0", "tcioDD0", "vsock"]);
  const kv = ratios.find((r) => r.of === "ktciodd0")!;
  assertEquals([kv.to, kv.boots, kv.latency, kv.throughput], ["vsock", 2, 2, 0.5]);
  const tv = ratios.find((r) => r.of === "tcioDD0")!;
  // 40 / 100 and 40 / 200: the median of 0.4 and 0.2.
  assertEquals([tv.boots, tv.latency.toFixed(6)], [2, "0.300000"]);
});
