import assert from "node:assert/strict";
import { join } from "node:path";
import {
  benchDashboard,
  benchRender,
  syntheticCellIds,
  writeSyntheticHistory,
} from "./bench_dashboard.ts";
import { cellPlace, HistoryIndex } from "./dashboard_model.ts";
import { loadHistory } from "./history.ts";

Deno.test("syntheticCellIds() makes distinct ids the grid can place", () => {
  const ids = syntheticCellIds(250);
  assert.equal(new Set(ids).size, 250);
  assert.ok(ids.every((id) => cellPlace(id).row !== "other"));
  assert.deepEqual(syntheticCellIds(2), [
    "5.15-td-on-l1smp1-l2smp1-busybox",
    "5.15-td-on-l1smp1-l2smp1-debian-bookworm",
  ]);
});

Deno.test("writeSyntheticHistory() writes a readable history with a regression", async () => {
  const root = await Deno.makeTempDir({ prefix: "vtcio-synth-" });
  try {
    const made = await writeSyntheticHistory(root, { runs: 25, cells: 12, logRuns: 2 });
    assert.equal(made.logFiles, 2 * 12 * 3);
    const history = await loadHistory(root);
    assert.deepEqual(history.warnings, []);
    assert.equal(history.runs.length, 25);
    assert.ok(history.runs.every((r) => r.record.cells.length === 12));
    const index = new HistoryIndex(history.runs.map((r) => r.record));
    // The fourth cell fails from 20 runs before the end to 5 before it.
    const regressions = history.runs.map((_, i) =>
      index.changes(i).filter((c) => c.kind === "regression")
    );
    assert.ok(regressions.flat().some((c) => c.id === syntheticCellIds(4)[3]));
    // The same seed gives the same history.
    const again = await Deno.makeTempDir({ prefix: "vtcio-synth-" });
    try {
      await writeSyntheticHistory(again, { runs: 3, cells: 4, logRuns: 0 });
      await writeSyntheticHistory(join(again, "b"), { runs: 3, cells: 4, logRuns: 0 });
      const a = (await loadHistory(again)).runs.map((r) => r.record);
      const b = (await loadHistory(join(again, "b"))).runs.map((r) => r.record);
      assert.deepEqual(a, b);
    } finally {
      await Deno.remove(again, { recursive: true });
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("benchDashboard() and benchRender() return measurements", async () => {
  const bench = await benchDashboard({ runs: 4, cells: 6, logRuns: 1, repeats: 2, browser: false });
  assert.equal(bench.history.runs, 4);
  assert.equal(bench.render.seconds.length, 2);
  assert.ok(bench.render.bestSeconds > 0);
  assert.equal(bench.render.runs, 4);
  assert.equal(bench.render.pages, 1 + 4 + 6);
  assert.equal(bench.render.logs, 6 * 3);
  assert.ok(bench.render.indexBytes > 0 && bench.render.htmlBytes > bench.render.indexBytes);
  assert.equal(bench.open, undefined);
  const work = await Deno.makeTempDir({ prefix: "vtcio-bench-" });
  try {
    await writeSyntheticHistory(join(work, "r"), { runs: 2, cells: 2, logRuns: 0 });
    const render = await benchRender(join(work, "r"), join(work, "site"));
    assert.equal(render.seconds.length, 1);
  } finally {
    await Deno.remove(work, { recursive: true });
  }
});
