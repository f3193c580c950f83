import assert from "node:assert/strict";
import { JsonReporter } from "./reporter_json.ts";
import { readRunRecord, RunStore } from "./results.ts";
import { summarize } from "./summary.ts";
import type { Cell, CellResult } from "./types.ts";

function result(id: string): CellResult {
  return {
    id,
    outcome: "pass",
    reason: "2 tests, host supported",
    tests: [],
    timings: { build: 3 },
    logs: {},
    attempts: 1,
    flaky: false,
    facts: { support: "supported" },
    started: "2026-11-25T03:15:00.000Z",
    finished: "2026-11-25T03:16:00.000Z",
  };
}

Deno.test("JsonReporter records each cell in run.json and the final status", async () => {
  const root = await Deno.makeTempDir({ prefix: "vtcio-json-" });
  try {
    const store = await RunStore.create(root, {
      matrix: { file: "matrix/default.yaml", name: "default", sha256: "00" },
      host: {},
      versions: {},
      planned: ["a", "b"],
      argv: [],
    });
    const times = {
      wall_s: 60,
      qemu_s: 20,
      compiler_s: 30,
      overhead_s: 10,
      tools_s: 4,
      own_s: 6,
      programs: { qemu: 1, compiler: 3, tool: 5 },
    };
    const reporter = new JsonReporter(store, () => times);
    await reporter.onCellEnd({ id: "a" } as Cell, result("a"));
    const during = await readRunRecord(store.runJsonPath);
    assert.equal(during.status, "running");
    assert.deepEqual(during.cells.map((c) => c.id), ["a"]);

    await reporter.onEnd(summarize({
      runId: store.runId,
      runDir: store.dir,
      status: "interrupted",
      results: [result("a")],
      planned: ["a", "b"],
      seconds: 60,
    }));
    const after = await readRunRecord(store.runJsonPath);
    assert.equal(after.status, "interrupted");
    assert.equal(typeof after.finished, "string");
    assert.deepEqual(after.runner, times, "the runner times are written at the end");
    assert.equal(during.runner, undefined);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
