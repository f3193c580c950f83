import { assertEquals } from "./test_assert.ts";
import { type CellRunner, isHostError, runCells } from "./runner.ts";
import { readRunRecord, RunStore } from "./results.ts";
import { MultiReporter } from "./reporter.ts";
import { JsonReporter } from "./reporter_json.ts";
import type { CellContext } from "./cell_run.ts";
import type { CellResult } from "./types.ts";
import { testCell } from "./testdata/fake_guest.ts";

function passed(id: string): CellResult {
  const now = new Date().toISOString();
  return {
    id,
    outcome: "pass",
    reason: "1 tests, host supported",
    tests: [],
    timings: {},
    logs: {},
    attempts: 1,
    flaky: false,
    facts: {},
    started: now,
    finished: now,
  };
}

async function run(ids: string[], runCell: CellRunner, retries = 0) {
  const root = await Deno.makeTempDir({ prefix: "vtcio-runner-test-" });
  const store = await RunStore.create(root, {
    matrix: { file: "m.yaml", name: "m", sha256: "00" },
    host: {},
    versions: {},
    planned: ids,
    argv: [],
  });
  try {
    const summary = await runCells({
      store,
      cells: ids.map((id) => testCell(id)),
      ctx: {} as CellContext,
      reporter: new MultiReporter([new JsonReporter(store)]),
      runCell,
      jobs: 1,
      retries,
      signal: new AbortController().signal,
    });
    return { summary, record: await readRunRecord(store.runJsonPath) };
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

Deno.test("runCells: a cell whose run throws is an error in its phase, the others still run", async () => {
  let calls = 0;
  const { summary, record } = await run(["a", "b", "c"], (cell, _dir, _ctx, onPhase) => {
    if (cell.id !== "b") return Promise.resolve(passed(cell.id));
    calls++;
    onPhase("image");
    return Promise.reject(new Deno.errors.NotFound("No such file: kernel/configs/iommu.config"));
  }, 1);
  assertEquals(summary.status, "complete");
  assertEquals(summary.results.map((r) => [r.id, r.outcome]), [
    ["a", "pass"],
    ["b", "error"],
    ["c", "pass"],
  ]);
  const b = summary.results[1];
  assertEquals(
    [b.reason, b.phase, b.attempts],
    ["Infrastructure error: No such file: kernel/configs/iommu.config", "image", 2],
  );
  assertEquals(calls, 2, "retried like any unexpected outcome");
  assertEquals(record.cells.map((c) => c.id), ["a", "b", "c"]);
});

Deno.test("runCells: a full disk stops the run: no retry, no further cell, status interrupted", async () => {
  const enospc = Object.assign(new Error("No space left on device (os error 28)"), {
    code: "ENOSPC",
  });
  let calls = 0;
  const { summary } = await run(["a", "b", "c"], (cell) => {
    if (cell.id !== "b") return Promise.resolve(passed(cell.id));
    calls++;
    return Promise.reject(new Error("Cannot write l1-console.log", { cause: enospc }));
  }, 2);
  assertEquals(summary.status, "interrupted");
  assertEquals(summary.results.map((r) => [r.id, r.outcome]), [["a", "pass"], ["b", "error"]]);
  assertEquals(summary.notRun, ["c"]);
  assertEquals(calls, 1);
});

Deno.test("isHostError looks through causes for ENOSPC, EDQUOT and EROFS", () => {
  const coded = (code: string) => Object.assign(new Error(code), { code });
  assertEquals(isHostError(coded("ENOSPC")), true);
  assertEquals(isHostError(new Error("wrapped", { cause: coded("EROFS") })), true);
  assertEquals(isHostError(coded("ENOENT")), false);
  assertEquals(isHostError("ENOSPC"), false);
});
