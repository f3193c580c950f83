/**
 * The runner: a plan's cells through runCell, in parallel within the machine, with retries
 * (a cell that passes on retry is flaky), results recorded after every cell, and interruption
 * that stops QEMU and keeps what finished.
 */
import type { Cell, CellResult, Phase } from "./types.ts";
import type { Reporter } from "./reporter.ts";
import { RunStore } from "./results.ts";
import { isUnexpected } from "./classify.ts";
import { type RunSummary, summarize } from "./summary.ts";
import type { CellContext } from "./cell_run.ts";

/** Runs one cell; replaced in tests by a fake. */
export type CellRunner = (
  cell: Cell,
  cellDir: string,
  ctx: CellContext,
  onPhase: (p: Phase) => void,
) => Promise<CellResult>;

export interface RunOptions {
  store: RunStore;
  cells: Cell[];
  ctx: CellContext;
  reporter: Reporter;
  runCell: CellRunner;
  /** Cells booted at once. */
  jobs: number;
  /** Extra attempts for a cell with an unexpected outcome. */
  retries: number;
  /** Aborted on Ctrl-C / SIGTERM: running cells stop, no new cell starts. */
  signal: AbortSignal;
}

/** Runs the cells and returns the summary of the whole run (cells kept from a resume included). */
export async function runCells(opts: RunOptions): Promise<RunSummary> {
  const t0 = performance.now();
  const { store, reporter } = opts;
  const previous = store.record.cells.filter((r) => !opts.cells.some((c) => c.id === r.id));
  await reporter.onBegin?.({
    runId: store.runId,
    runDir: store.dir,
    cells: opts.cells,
    previous,
  });
  const results: CellResult[] = [];
  const queue = [...opts.cells];
  const worker = async () => {
    while (queue.length > 0 && !opts.signal.aborted) {
      const cell = queue.shift()!;
      await reporter.onCellStart?.(cell);
      let result: CellResult | undefined;
      let attempts = 0;
      const outcomes: string[] = [];
      const base = await store.clearCellDir(cell.id);
      while (attempts <= opts.retries && !opts.signal.aborted) {
        attempts++;
        const dir = attempts === 1 ? base : `${base}/attempt-${attempts}`;
        result = await opts.runCell(cell, dir, opts.ctx, (p) => reporter.onCellPhase?.(cell, p));
        outcomes.push(result.outcome);
        if (!isUnexpected(result.outcome)) break;
      }
      if (!result || opts.signal.aborted) break;
      result.attempts = attempts;
      result.flaky = attempts > 1 && !isUnexpected(result.outcome);
      if (result.flaky) result.reason = `${result.reason} (flaky: ${outcomes.join(", ")})`;
      results.push(result);
      await reporter.onCellEnd?.(cell, result);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.jobs) }, worker));
  const summary = summarize({
    runId: store.runId,
    runDir: store.dir,
    status: opts.signal.aborted ? "interrupted" : "complete",
    results: [...previous, ...results],
    planned: store.record.planned,
    seconds: (performance.now() - t0) / 1000,
  });
  await reporter.onEnd?.(summary);
  return summary;
}
