import assert from "node:assert/strict";
import { join } from "node:path";
import {
  deriveRunGroup,
  isRunGroup,
  loadHistory,
  mergedRunId,
  mergeRunDirs,
  mergeShards,
  runShard,
} from "./history.ts";
import { isRunId, readRunRecord, RUN_SCHEMA, type RunRecord } from "./results.ts";
import type { CellResult, Outcome } from "./types.ts";

const SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
const FIXTURE = new URL("./testdata/history", import.meta.url).pathname;

function cell(
  id: string,
  outcome: Outcome = "pass",
  finished = "2026-11-25T03:16:00.000Z",
): CellResult {
  return {
    id,
    outcome,
    reason: outcome,
    tests: [],
    timings: { build: 1 },
    logs: { "l1-console": `cells/${id}/l1-console.log` },
    attempts: 1,
    flaky: false,
    facts: { accel: "kvm" },
    started: "2026-11-25T03:15:00.000Z",
    finished,
  };
}

function record(runId: string, over: Partial<RunRecord> = {}): RunRecord {
  return {
    schema: RUN_SCHEMA,
    run_id: runId,
    matrix: { file: "matrix/nightly.yaml", name: "nightly", sha256: SHA },
    status: "complete",
    started: "2026-11-25T03:15:00.000Z",
    finished: "2026-11-25T04:00:00.000Z",
    host: { cpu_vendor: "GenuineIntel", nested: "Y" },
    versions: { deno: "2.9.6", vtcio: "abc" },
    planned: [],
    argv: ["run", "matrix/nightly.yaml"],
    cells: [],
    ...over,
  };
}

const RUNNER = {
  wall_s: 2700,
  qemu_s: 1500,
  compiler_s: 1000,
  overhead_s: 200,
  tools_s: 150,
  own_s: 50,
  programs: { qemu: 3, compiler: 20, tool: 40 },
};

/** Shard K of 2 over cells a..e: shard 1 plans a, c, e and shard 2 b, d. */
function shards(): [RunRecord, RunRecord] {
  return [
    record("20261125T031500Z-0001", {
      shard: { index: 1, count: 2, group: "g1" },
      planned: ["a", "c", "e"],
      cells: [cell("e", "fail"), cell("a"), cell("c")],
      host: { cpu_vendor: "GenuineIntel", nested: "Y", hostname: "m1" },
      started: "2026-11-25T03:15:00.000Z",
      finished: "2026-11-25T04:00:00.000Z",
      runner: RUNNER,
    }),
    record("20261125T031507Z-0002", {
      shard: { index: 2, count: 2, group: "g1" },
      planned: ["b", "d"],
      cells: [cell("b"), cell("d", "timeout")],
      host: { cpu_vendor: "GenuineIntel", nested: "Y", hostname: "m2" },
      versions: { deno: "2.9.6", vtcio: "abc", qemu: "8.2.2" },
      started: "2026-11-25T03:15:07.000Z",
      finished: "2026-11-25T04:10:00.000Z",
    }),
  ];
}

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "vtcio-history-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function writeRun(root: string, rec: RunRecord, logs = true): Promise<string> {
  const dir = join(root, rec.run_id);
  await Deno.mkdir(join(dir, "cells"), { recursive: true });
  await Deno.writeTextFile(join(dir, "run.json"), JSON.stringify(rec, null, 2));
  if (logs) {
    for (const c of rec.cells) {
      await Deno.mkdir(join(dir, "cells", c.id), { recursive: true });
      await Deno.writeTextFile(
        join(dir, "cells", c.id, "l1-console.log"),
        `${rec.run_id} ${c.id}\n`,
      );
    }
  }
  return dir;
}

Deno.test("runShard() and deriveRunGroup() name the shards of one run", () => {
  assert.equal(deriveRunGroup(SHA, new Date("2026-11-25T23:59:00Z")), "20261125-9f86d081884c");
  assert.deepEqual(runShard({ index: 2, count: 4 }, { group: "8812345", matrixSha256: SHA }), {
    index: 2,
    count: 4,
    group: "8812345",
  });
  assert.equal(
    runShard({ index: 1, count: 2 }, { matrixSha256: SHA, now: new Date("2026-01-02T00:00:00Z") })
      .group,
    "20260102-9f86d081884c",
  );
  assert.ok(isRunGroup("gh-123.4_5"));
  assert.ok(!isRunGroup("../etc"));
  assert.ok(!isRunGroup(""));
  assert.throws(() => runShard({ index: 1, count: 2 }, { group: "a b", matrixSha256: SHA }), {
    message: /Invalid run group "a b"/,
  });
});

Deno.test("mergedRunId() is a run id, the same whatever the order", () => {
  const a = mergedRunId(["20261125T031507Z-0002", "20261125T031500Z-0001"]);
  const b = mergedRunId(["20261125T031500Z-0001", "20261125T031507Z-0002"]);
  assert.equal(a, b);
  assert.ok(isRunId(a));
  assert.ok(a.startsWith("20261125T031500Z-"));
  assert.notEqual(a, mergedRunId(["20261125T031500Z-0001"]));
});

Deno.test("mergeShards() unites cells and plans in plan order, keeps each shard's facts", () => {
  const [one, two] = shards();
  const merged = mergeShards([two, one]);
  assert.equal(merged.schema, RUN_SCHEMA);
  assert.ok(isRunId(merged.run_id));
  assert.deepEqual(merged.planned, ["a", "b", "c", "d", "e"]);
  assert.deepEqual(merged.cells.map((c) => c.id), ["a", "b", "c", "d", "e"]);
  assert.equal(merged.status, "complete");
  assert.equal(merged.started, "2026-11-25T03:15:00.000Z");
  assert.equal(merged.finished, "2026-11-25T04:10:00.000Z");
  // Facts all shards agree on stay in host/versions; each shard keeps its own.
  assert.deepEqual(merged.host, { cpu_vendor: "GenuineIntel", nested: "Y" });
  assert.deepEqual(merged.versions, { deno: "2.9.6", vtcio: "abc" });
  const info = merged.merged!;
  assert.equal(info.group, "g1");
  assert.equal(info.count, 2);
  assert.deepEqual(info.missing, []);
  assert.deepEqual(info.conflicts, []);
  assert.deepEqual(info.parts.map((p) => [p.run_id, p.host.hostname, p.cells]), [
    ["20261125T031500Z-0001", "m1", ["a", "c", "e"]],
    ["20261125T031507Z-0002", "m2", ["b", "d"]],
  ]);
  // Where each shard's time went stays with that shard (shard 2 recorded none).
  assert.deepEqual(info.parts.map((p) => p.runner), [RUNNER, undefined]);
  assert.equal(merged.runner, undefined);
  assert.equal(merged.shard, undefined);
  assert.deepEqual(mergeShards([one, two]), merged);
});

Deno.test("mergeShards() resolves a cell run by two shards deterministically and reports it", () => {
  const [one, two] = shards();
  // Shard 2 was run twice (a CI re-run): its second run finished later with d passing.
  const again = record("20261125T051500Z-0003", {
    shard: { index: 2, count: 2, group: "g1" },
    planned: ["b", "d"],
    cells: [cell("b"), cell("d", "pass", "2026-11-25T05:30:00.000Z")],
  });
  const a = mergeShards([one, two, again]);
  const b = mergeShards([again, two, one]);
  assert.deepEqual(a, b);
  assert.equal(a.cells.find((c) => c.id === "d")?.outcome, "pass");
  assert.deepEqual(
    a.merged!.conflicts.map((c) => [c.id, c.kept.run_id, c.dropped.map((d) => d.run_id)]),
    [
      ["b", "20261125T051500Z-0003", ["20261125T031507Z-0002"]],
      ["d", "20261125T051500Z-0003", ["20261125T031507Z-0002"]],
    ],
  );
  assert.equal(a.merged!.conflicts[1].dropped[0].outcome, "timeout");
  // Same finish time: the larger run id wins.
  const tie = record("20261125T051500Z-0004", {
    shard: { index: 2, count: 2, group: "g1" },
    planned: ["b", "d"],
    cells: [cell("b", "fail"), cell("d")],
  });
  const merged = mergeShards([tie, two]);
  assert.equal(merged.cells.find((c) => c.id === "b")?.outcome, "fail");
});

Deno.test("mergeShards() reports missing shards and refuses runs of different matrices", () => {
  const [one, two] = shards();
  const partial = mergeShards([one]);
  assert.deepEqual(partial.merged!.missing, [2]);
  assert.equal(partial.status, "interrupted");
  const running = mergeShards([one, { ...two, status: "running", finished: undefined }]);
  assert.equal(running.status, "running");
  assert.equal(running.finished, undefined);
  assert.throws(
    () => mergeShards([one, { ...two, matrix: { ...two.matrix, sha256: "00".repeat(32) } }]),
    { message: /different matrices/ },
  );
  assert.throws(() => mergeShards([one, { ...two, shard: { index: 2, count: 2, group: "g2" } }]), {
    message: /different run groups/,
  });
  assert.throws(() => mergeShards([one, { ...two, shard: { index: 2, count: 3, group: "g1" } }]), {
    message: /different shard counts/,
  });
  assert.throws(() => mergeShards([]), { message: /No runs to merge/ });
  // Runs without a shard field (older runners) are merged in the order given.
  const plain = mergeShards([
    record("20261125T031500Z-0001", { planned: ["x"], cells: [cell("x")] }),
    record("20261125T031600Z-0002", { planned: ["y"], cells: [cell("y")] }),
  ]);
  assert.deepEqual(plain.planned, ["x", "y"]);
  assert.equal(plain.merged!.group, undefined);
});

Deno.test("mergeRunDirs() writes the merged run with every shard's cell directories", async () => {
  await withTempDir(async (tmp) => {
    const [one, two] = shards();
    const dirs = [await writeRun(join(tmp, "s1"), one), await writeRun(join(tmp, "s2"), two)];
    const out = join(tmp, "results");
    const { dir, record: merged } = await mergeRunDirs(dirs, out);
    assert.equal(dir, join(out, merged.run_id));
    const onDisk = await readRunRecord(join(dir, "run.json"));
    assert.deepEqual(onDisk, merged);
    for (const c of merged.cells) {
      const log = await Deno.readTextFile(join(dir, c.logs["l1-console"]));
      const from = c.id === "b" || c.id === "d" ? two.run_id : one.run_id;
      assert.equal(log, `${from} ${c.id}\n`);
    }
    assert.match(await Deno.readTextFile(join(dir, "junit.xml")), /<testsuite name="e"/);
    // Again: the same id, replaced in place; no temporary directory left behind.
    const again = await mergeRunDirs([dirs[1], dirs[0]], out);
    assert.equal(again.dir, dir);
    const names = [];
    for await (const e of Deno.readDir(out)) names.push(e.name);
    assert.deepEqual(names, [merged.run_id]);
    // A missing run.json is an error naming the directory.
    await Deno.mkdir(join(tmp, "empty"));
    await assert.rejects(() => mergeRunDirs([join(tmp, "empty")], out), /empty/);
  });
});

Deno.test("loadHistory() sorts runs, skips unreadable ones and combines shards", async () => {
  await withTempDir(async (root) => {
    const [one, two] = shards();
    await writeRun(root, record("20261124T031500Z-00aa", { planned: ["a"], cells: [cell("a")] }));
    await writeRun(root, one);
    await writeRun(root, two);
    await writeRun(
      root,
      record("20261123T031500Z-00bb", { planned: ["a"], cells: [cell("a", "fail")] }),
    );
    // A run directory just created (no run.json yet), a half-written one, a foreign one.
    await Deno.mkdir(join(root, "20261126T000000Z-0c0c", "cells"), { recursive: true });
    await Deno.mkdir(join(root, "20261126T000001Z-0d0d"));
    await Deno.writeTextFile(
      join(root, "20261126T000001Z-0d0d", "run.json"),
      '{"schema": "vtcio-ru',
    );
    await Deno.mkdir(join(root, "20261126T000002Z-0e0e"));
    await Deno.writeTextFile(
      join(root, "20261126T000002Z-0e0e", "run.json"),
      '{"schema": "other/1"}',
    );
    await Deno.mkdir(join(root, "not-a-run"));

    const history = await loadHistory(root);
    const combined = mergedRunId([one.run_id, two.run_id]);
    assert.deepEqual(history.runs.map((r) => r.id), [
      "20261123T031500Z-00bb",
      "20261124T031500Z-00aa",
      combined,
    ]);
    const last = history.runs[2];
    assert.equal(last.record.cells.length, 5);
    assert.equal(last.cellRunDirs.b, join(root, two.run_id));
    assert.equal(last.cellRunDirs.a, join(root, one.run_id));
    assert.equal(history.warnings.length, 4);
    assert.match(history.warnings.join("\n"), /Skipped 20261126T000000Z-0c0c: no run.json/);
    assert.match(history.warnings.join("\n"), /Skipped 20261126T000001Z-0d0d: /);
    assert.match(
      history.warnings.join("\n"),
      /Skipped 20261126T000002Z-0e0e: .*not a vtcio-run\/1/,
    );
    assert.match(history.warnings.join("\n"), /Combined the 2 shard\(s\) of run group g1/);

    const limited = await loadHistory(root, { limit: 2 });
    assert.deepEqual(limited.runs.map((r) => r.id), ["20261124T031500Z-00aa", combined]);

    // Once merged on disk, the shards are left out in favour of the merged run.
    const { record: merged } = await mergeRunDirs(
      [join(root, one.run_id), join(root, two.run_id)],
      root,
    );
    const after = await loadHistory(root);
    assert.deepEqual(after.runs.map((r) => r.id), [
      "20261123T031500Z-00bb",
      "20261124T031500Z-00aa",
      merged.run_id,
    ]);
    assert.equal(after.runs[2].dir, join(root, merged.run_id));
    assert.equal(after.runs[2].cellRunDirs.b, join(root, merged.run_id));
    assert.ok(!after.warnings.some((w) => w.startsWith("Combined")));
  });
});

Deno.test("loadHistory() reads the recorded fixture and a missing root as empty", async () => {
  const history = await loadHistory(FIXTURE);
  assert.equal(history.runs.length, 3);
  assert.equal(history.runs[2].record.merged?.group, "gh-8812345");
  assert.equal(history.runs[2].record.cells.length, 6);
  const none = await loadHistory(join(FIXTURE, "does-not-exist"));
  assert.deepEqual(none.runs, []);
});
