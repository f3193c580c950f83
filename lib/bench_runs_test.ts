import { assertEquals, assertMatch } from "./test_assert.ts";
import { runMatrix, runStats } from "./bench_runs.ts";
import { RUN_SCHEMA, type RunRecord } from "./results.ts";
import type { CellResult } from "./types.ts";

const cell = (id: string, start: string, seconds: number, extra: Partial<CellResult> = {}) => ({
  id,
  outcome: "pass" as const,
  reason: "ok",
  tests: [],
  timings: { build: 1, image: 0.5, l1_boot: 3, l2_boot: 4, clients: 2 },
  logs: {},
  attempts: 1,
  flaky: false,
  facts: {},
  started: start,
  finished: new Date(Date.parse(start) + seconds * 1000).toISOString(),
  ...extra,
});

const record = (cells: CellResult[], extra: Partial<RunRecord> = {}): RunRecord => ({
  schema: RUN_SCHEMA,
  run_id: "20261203T100000Z-0001",
  matrix: { file: "matrix/smoke.yaml", name: "smoke", sha256: "00" },
  status: "complete",
  started: "2026-12-03T10:00:00.000Z",
  finished: "2026-12-03T10:01:00.000Z",
  host: {},
  versions: {},
  planned: cells.map((c) => c.id),
  argv: [],
  cells,
  ...extra,
});

Deno.test("bench_runs: wall time, cells per hour, phase medians and retries of a run", () => {
  const st = runStats(record([
    cell("a", "2026-12-03T10:00:01.000Z", 20),
    cell("b", "2026-12-03T10:00:02.000Z", 30, {
      attempts: 3,
      outcome: "timeout",
      timings: { build: 5, l1_boot: 60 },
    }),
  ]));
  assertEquals(st.wallSeconds, 60);
  assertEquals(st.cellsPerHour, 120);
  assertEquals(st.retries, 2);
  assertEquals(st.outcomes, { pass: 1, timeout: 1 });
  assertEquals(st.phaseMedians, { build: 3, image: 0.5, l1_boot: 31.5, l2_boot: 4, clients: 2 });
  assertEquals(st.phaseTotals.build, 6);
  assertEquals(st.cellMedian, 25);
  assertEquals(st.runner, undefined);
});

Deno.test("bench_runs: a merged run is timed from its first part's start to its last part's end", () => {
  const part = (id: string, started: string, finished: string) => ({
    run_id: id,
    status: "complete" as const,
    started,
    finished,
    host: {},
    versions: {},
    argv: [],
    cells: [],
  });
  const st = runStats(record([cell("a", "2026-12-03T10:00:05.000Z", 10)], {
    // A merge made long after the shards ran: its own times say nothing about the run.
    started: "2026-12-03T12:00:00.000Z",
    finished: "2026-12-03T12:00:01.000Z",
    merged: {
      parts: [
        part("s1", "2026-12-03T10:00:00.000Z", "2026-12-03T10:30:00.000Z"),
        part("s2", "2026-12-03T10:00:03.000Z", "2026-12-03T10:59:00.000Z"),
      ],
      missing: [],
      conflicts: [],
    },
  }));
  assertEquals(st.wallSeconds, 59 * 60);
  // Neither the merged run nor its parts recorded where their time went.
  assertEquals(st.runner, undefined);
});

Deno.test("bench_runs: a merged run's runner times are its parts' summed, when each has them", () => {
  const times = (wall: number, compiler: number) => ({
    wall_s: wall,
    qemu_s: wall - compiler - 10,
    compiler_s: compiler,
    overhead_s: 10,
    tools_s: 8,
    own_s: 2,
    programs: { qemu: 15, compiler: compiler > 0 ? 40 : 0, tool: 60 },
  });
  const part = (id: string, runner?: ReturnType<typeof times>) => ({
    run_id: id,
    status: "complete" as const,
    started: "2026-12-03T10:00:00.000Z",
    finished: "2026-12-03T10:30:00.000Z",
    host: {},
    versions: {},
    argv: [],
    cells: [],
    ...(runner ? { runner } : {}),
  });
  const merged = (parts: ReturnType<typeof part>[]) =>
    runStats(record([cell("a", "2026-12-03T10:00:05.000Z", 10)], {
      merged: { parts, missing: [], conflicts: [] },
    }));
  const st = merged([part("s1", times(1500, 600)), part("s2", times(1000, 0))]);
  assertEquals(st.runner?.wall_s, 2500);
  assertEquals(st.runner?.compiler_s, 600);
  assertEquals(st.runner?.overhead_s, 20);
  assertEquals(st.runner?.programs, { qemu: 30, compiler: 40, tool: 120 });
  assertEquals(st.runnerParts, 2);
  // One part without them: a sum would understate, so there is none.
  const partial = merged([part("s1", times(1500, 600)), part("s2")]);
  assertEquals(partial.runner, undefined);
  assertEquals(partial.runnerParts, undefined);
});

Deno.test("bench_runs: cells with a build phase over 10 s compiled kernels", () => {
  const st = runStats(record([
    cell("hit", "2026-12-03T10:00:01.000Z", 20, { timings: { build: 0.04 } }),
    cell("built", "2026-12-03T10:00:02.000Z", 300, { timings: { build: 220 } }),
    cell("edge", "2026-12-03T10:00:03.000Z", 30, { timings: { build: 10 } }),
  ]));
  assertEquals(st.builtCells, 1);
});

Deno.test("bench_runs: a matrix run that makes no run directory is an error that says why", async () => {
  const repo = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
  let error: Error | undefined;
  try {
    await runMatrix(repo, ["matrix/no-such-file.yaml"], {});
  } catch (e) {
    error = e as Error;
  }
  assertMatch(error?.message ?? "", /made no run \(exit 2\).*Cannot read matrix file/s);
});
