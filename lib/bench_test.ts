import { assertEquals, assertMatch } from "./test_assert.ts";
import { benchMarkdown, benchPlan, largeMatrix, median, updateBenchmarksMd } from "./bench.ts";
import { parseMatrix } from "./matrix_parse.ts";

Deno.test("bench: median of odd and even counts", () => {
  assertEquals(median([3, 1, 2]), 2);
  assertEquals(median([4, 1, 3, 2]), 2.5);
});

Deno.test("bench: the large matrix is valid and has at least the cells asked for", () => {
  const spec = parseMatrix(largeMatrix(500), "bench.yaml");
  assertEquals(spec.name, "bench");
  const r = benchPlan(500, 1);
  assertEquals(r.cells >= 500 && r.cells < 500 + 96, true, `${r.cells}`);
});

Deno.test("bench: BENCHMARKS.md keeps its prose and replaces only the generated table", () => {
  const table = benchMarkdown({
    date: "2026-11-25T00:00:00Z",
    quick: true,
    machine: { cores: "2", deno: "2.9.6", os: "linux x86_64" },
    rows: [{ name: "x", value: 1.5, unit: "s", target: "< 5 s", met: true }],
  });
  assertMatch(table, /\| x \| 1\.500 s \| < 5 s \(met\) \|/);
  const first = updateBenchmarksMd("# Benchmarks\n\nWhy the numbers are what they are.\n", table);
  const second = updateBenchmarksMd(first, table.replace("1.500", "2.000"));
  assertMatch(second, /Why the numbers are what they are\./);
  assertMatch(second, /2\.000 s/);
  assertEquals(second.includes("1.500"), false);
});
