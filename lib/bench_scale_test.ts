import { assertEquals } from "./test_assert.ts";
import { join } from "node:path";
import {
  largeMatrix,
  median,
  runWorker,
  spawnWorker,
  writeSyntheticShards,
} from "./bench_scale.ts";
import { parseMatrix } from "./matrix_parse.ts";
import { readRunRecord } from "./results.ts";

Deno.test("bench_scale: median of odd and even counts", () => {
  assertEquals(median([3, 1, 2]), 2);
  assertEquals(median([4, 1, 3, 2]), 2.5);
});

Deno.test("bench_scale: the large matrix is valid and plans at least the cells asked for", async () => {
  assertEquals(parseMatrix(largeMatrix(500), "bench.yaml").name, "bench");
  const r = await runWorker("plan", { size: 500, repeats: 2 });
  assertEquals(r.seconds.length, 2);
  assertEquals(r.detail.cells >= 500 && r.detail.cells < 500 + 96, true, `${r.detail.cells}`);
  assertEquals(r.peakMiB > 0, true);
});

Deno.test("bench_scale: synthetic shards split a run as --shard does, and merge back whole", async () => {
  const dir = await Deno.makeTempDir({ prefix: "vtcio-shards-" });
  try {
    const dirs = await writeSyntheticShards(dir, 4, 10);
    assertEquals(dirs.length, 4);
    const first = await readRunRecord(join(dirs[0], "run.json"));
    assertEquals(first.shard?.index, 1);
    assertEquals(first.planned.length, 3, "cells 1, 5 and 9 of 10");
    assertEquals(first.cells.map((c) => c.id), first.planned);
    for (const id of first.planned) {
      assertEquals((await Deno.stat(join(dirs[0], "cells", id, "l1-console.log"))).isFile, true);
    }
    const r = await runWorker("merge", { size: 0, repeats: 1, dir });
    assertEquals([r.detail.shards, r.detail.cells], [4, 10]);
    assertEquals([...Deno.readDirSync(dir)].map((e) => e.name).sort(), ["shards"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bench_scale: a worker runs in a process of its own and reports its peak memory", async () => {
  const repo = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
  const r = await spawnWorker(repo, "noop", { size: 0, repeats: 1 });
  assertEquals(r.kind, "noop");
  assertEquals(r.peakMiB > 10 && r.peakMiB < 1024, true, `${r.peakMiB}`);
});
