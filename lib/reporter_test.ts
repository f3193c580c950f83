import assert from "node:assert/strict";
import { MultiReporter, type Reporter, type ReporterError, type RunInfo } from "./reporter.ts";
import { summarize } from "./summary.ts";
import type { Cell, CellResult, Phase } from "./types.ts";

const CELL = { id: "c1" } as Cell;
const RESULT = { id: "c1", outcome: "pass" } as CellResult;
const INFO: RunInfo = { runId: "r", runDir: "results/r", cells: [CELL] };

class Recorder implements Reporter {
  constructor(readonly log: string[], readonly tag: string) {}
  onBegin(info: RunInfo) {
    this.log.push(`${this.tag}:begin:${info.runId}`);
  }
  async onCellStart(cell: Cell) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    this.log.push(`${this.tag}:start:${cell.id}`);
  }
  onCellPhase(cell: Cell, phase: Phase) {
    this.log.push(`${this.tag}:phase:${cell.id}:${phase}`);
  }
  onCellEnd(_cell: Cell, result: CellResult) {
    this.log.push(`${this.tag}:end:${result.outcome}`);
  }
  onEnd() {
    this.log.push(`${this.tag}:done`);
  }
}

class Broken implements Reporter {
  onBegin(): void {
    throw new Error("Disk full");
  }
  onCellEnd(): Promise<void> {
    return Promise.reject(new Error("Rejected"));
  }
}

Deno.test("MultiReporter fans out every hook in order, awaiting async ones", async () => {
  const log: string[] = [];
  const multi = new MultiReporter([new Recorder(log, "a"), new Recorder(log, "b")]);
  await multi.onBegin(INFO);
  await multi.onCellStart(CELL);
  await multi.onCellPhase(CELL, "l1_boot");
  await multi.onCellEnd(CELL, RESULT);
  await multi.onEnd(
    summarize({ runId: "r", runDir: "d", status: "complete", results: [], seconds: 0 }),
  );
  assert.deepEqual(log, [
    "a:begin:r",
    "b:begin:r",
    "a:start:c1",
    "b:start:c1",
    "a:phase:c1:l1_boot",
    "b:phase:c1:l1_boot",
    "a:end:pass",
    "b:end:pass",
    "a:done",
    "b:done",
  ]);
});

Deno.test("MultiReporter keeps going when a reporter throws or rejects", async () => {
  const log: string[] = [];
  const seen: ReporterError[] = [];
  const multi = new MultiReporter([new Broken(), new Recorder(log, "ok")], {
    onError: (failure) => seen.push(failure),
  });
  await multi.onBegin(INFO);
  await multi.onCellEnd(CELL, RESULT);
  assert.deepEqual(log, ["ok:begin:r", "ok:end:pass"]);
  assert.deepEqual(
    multi.errors.map((e) => [e.reporter, e.hook, (e.error as Error).message]),
    [["Broken", "onBegin", "Disk full"], ["Broken", "onCellEnd", "Rejected"]],
  );
  assert.equal(seen.length, 2);
});

Deno.test("MultiReporter skips missing hooks and survives a throwing error handler", async () => {
  const log: string[] = [];
  const multi = new MultiReporter([{}, new Broken()], {
    onError: () => {
      throw new Error("Handler broke");
    },
  });
  multi.add(new Recorder(log, "late"));
  await multi.onBegin(INFO);
  await multi.onCellPhase(CELL, "build");
  assert.deepEqual(log, ["late:begin:r", "late:phase:c1:build"]);
  assert.equal(multi.errors.length, 1);
});
