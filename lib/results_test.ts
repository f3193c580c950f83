import assert from "node:assert/strict";
import { join } from "node:path";
import {
  isRunId,
  listRuns,
  newRunId,
  readRunRecord,
  RUN_SCHEMA,
  type RunInit,
  RunStore,
  writeFileAtomic,
} from "./results.ts";
import type { CellResult, Outcome } from "./types.ts";

function init(over: Partial<RunInit> = {}): RunInit {
  return {
    matrix: { file: "matrix/default.yaml", name: "default", sha256: "ab".repeat(32) },
    host: { cpu_vendor: "GenuineIntel", nested: "Y" },
    versions: { qemu: "8.2.2", deno: "2.9.6" },
    planned: ["a", "b", "c"],
    argv: ["run", "matrix/default.yaml"],
    ...over,
  };
}

function result(id: string, outcome: Outcome = "pass"): CellResult {
  return {
    id,
    outcome,
    reason: "",
    tests: [],
    timings: { build: 1 },
    logs: { l1: `cells/${id}/l1.log` },
    attempts: 1,
    flaky: false,
    facts: {},
    started: "2026-11-25T03:15:00.000Z",
    finished: "2026-11-25T03:16:00.000Z",
  };
}

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "vtcio-results-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function readJson(path: string): Promise<Record<string, unknown>> {
  return JSON.parse(await Deno.readTextFile(path));
}

Deno.test("newRunId() is sortable by time and unique enough", () => {
  const id = newRunId(new Date("2026-11-25T03:15:00.123Z"));
  assert.match(id, /^20261125T031500Z-[0-9a-f]{4}$/);
  assert.ok(isRunId(id));
  assert.ok(!isRunId("latest"));
  const later = newRunId(new Date("2026-11-25T03:15:01Z"));
  assert.ok(id < later);
  const many = new Set(Array.from({ length: 50 }, () => newRunId(new Date(0))));
  assert.ok(many.size > 40);
});

Deno.test("writeFileAtomic() replaces content and leaves no temporary file", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "run.json");
    await writeFileAtomic(path, "first");
    await writeFileAtomic(path, new TextEncoder().encode("second"));
    assert.equal(await Deno.readTextFile(path), "second");
    const names = [];
    for await (const entry of Deno.readDir(dir)) names.push(entry.name);
    assert.deepEqual(names, ["run.json"]);
  });
});

Deno.test("writeFileAtomic() fails cleanly when the directory is missing", async () => {
  await withTempDir(async (dir) => {
    await assert.rejects(writeFileAtomic(join(dir, "nope", "run.json"), "x"), Deno.errors.NotFound);
  });
});

Deno.test("RunStore.create() writes run.json with the vtcio-run/1 schema", async () => {
  await withTempDir(async (root) => {
    const store = await RunStore.create(join(root, "results"), init());
    assert.ok(isRunId(store.runId));
    assert.equal(store.dir, join(root, "results", store.runId));
    const json = await readJson(store.runJsonPath);
    assert.equal(json.schema, RUN_SCHEMA);
    assert.equal(json.run_id, store.runId);
    assert.equal(json.status, "running");
    assert.deepEqual(json.planned, ["a", "b", "c"]);
    assert.deepEqual(json.cells, []);
    assert.equal(typeof json.started, "string");
    assert.equal((await Deno.stat(join(store.dir, "cells"))).isDirectory, true);
    assert.deepEqual(await listRuns(join(root, "results")), [store.runId]);
  });
});

Deno.test("RunStore.create() refuses an existing explicit run id", async () => {
  await withTempDir(async (root) => {
    await RunStore.create(root, init({ run_id: "20261125T031500Z-beef" }));
    await assert.rejects(
      RunStore.create(root, init({ run_id: "20261125T031500Z-beef" })),
      /already exists/,
    );
  });
});

Deno.test("RunStore.recordCell() rewrites run.json after every cell", async () => {
  await withTempDir(async (root) => {
    const store = await RunStore.create(root, init());
    await store.recordCell(result("a"));
    assert.deepEqual((await readRunRecord(store.runJsonPath)).cells.map((c) => c.id), ["a"]);
    await Promise.all([store.recordCell(result("b", "fail")), store.recordCell(result("c"))]);
    const record = await readRunRecord(store.runJsonPath);
    assert.deepEqual(record.cells.map((c) => c.id), ["a", "b", "c"]);
    await store.recordCell(result("b", "pass"));
    const again = await readRunRecord(store.runJsonPath);
    assert.deepEqual(again.cells.map((c) => `${c.id}:${c.outcome}`), [
      "a:pass",
      "c:pass",
      "b:pass",
    ]);
    assert.deepEqual(store.pending(), []);
  });
});

Deno.test("RunStore.finish() records the end state", async () => {
  await withTempDir(async (root) => {
    const store = await RunStore.create(root, init());
    await store.finish("interrupted");
    const record = await readRunRecord(store.runJsonPath);
    assert.equal(record.status, "interrupted");
    assert.equal(typeof record.finished, "string");
  });
});

Deno.test("RunStore.open() resumes: finished cells kept, the rest pending", async () => {
  await withTempDir(async (root) => {
    const first = await RunStore.create(root, init());
    await first.recordCell(result("b"));
    await first.finish("interrupted");

    const resumed = await RunStore.open(root, first.runId, ["run", "--resume", first.runId]);
    assert.deepEqual(resumed.pending(), ["a", "c"]);
    assert.equal(resumed.result("b")?.outcome, "pass");
    const record = await readRunRecord(resumed.runJsonPath);
    assert.equal(record.status, "running");
    assert.equal(record.finished, undefined);
    assert.deepEqual(record.resumes?.map((r) => r.argv), [["run", "--resume", first.runId]]);
    assert.deepEqual(record.argv, ["run", "matrix/default.yaml"]);
  });
});

Deno.test("RunStore.open() rejects a missing run or a foreign file", async () => {
  await withTempDir(async (root) => {
    await assert.rejects(RunStore.open(root, "20261125T031500Z-0000"), Deno.errors.NotFound);
    await Deno.mkdir(join(root, "20261125T031500Z-0001"));
    await Deno.writeTextFile(join(root, "20261125T031500Z-0001", "run.json"), '{"schema":"x"}');
    await assert.rejects(RunStore.open(root, "20261125T031500Z-0001"), /not a vtcio-run\/1/);
  });
});

Deno.test("RunStore.cellDir() creates per-cell directories and refuses unsafe ids", async () => {
  await withTempDir(async (root) => {
    const store = await RunStore.create(root, init());
    const dir = store.cellDir("6.1-td-on-l1smp1-l2smp1-busybox");
    assert.equal(dir, join(store.dir, "cells", "6.1-td-on-l1smp1-l2smp1-busybox"));
    await Deno.writeTextFile(join(dir, "l1.log"), "boot");
    assert.throws(() => store.cellDir("../escape"), /cannot name a directory/);
    assert.throws(() => store.cellDir(".."), /cannot name a directory/);
    const cleared = await store.clearCellDir("6.1-td-on-l1smp1-l2smp1-busybox");
    const entries = [];
    for await (const entry of Deno.readDir(cleared)) entries.push(entry.name);
    assert.deepEqual(entries, []);
  });
});

Deno.test("listRuns() lists run ids oldest first and ignores other entries", async () => {
  await withTempDir(async (root) => {
    assert.deepEqual(await listRuns(join(root, "none")), []);
    for (const name of ["20261125T031500Z-bbbb", "20251125T031500Z-aaaa", "latest"]) {
      await Deno.mkdir(join(root, name));
    }
    assert.deepEqual(await listRuns(root), ["20251125T031500Z-aaaa", "20261125T031500Z-bbbb"]);
  });
});
