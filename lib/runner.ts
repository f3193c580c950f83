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

/** Error codes that mean this host cannot go on (no space, no quota, read-only disk). */
const HOST_ERRORS: ReadonlySet<string> = new Set(["ENOSPC", "EDQUOT", "EROFS"]);

/** Whether `error`, or an error it was caused by, is one of {@link HOST_ERRORS}. */
export function isHostError(error: unknown): boolean {
  let e = error;
  for (let depth = 0; e instanceof Error && depth < 8; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && HOST_ERRORS.has(code)) return true;
    e = e.cause;
  }
  return false;
}

/**
 * The result of a cell whose run threw: vtcio itself, or the host, failed (a guest cannot make
 * runCell throw). An infrastructure error, in the phase the cell had reached.
 */
export function failedCellResult(
  cell: Cell,
  error: unknown,
  phase: Phase | undefined,
  started: Date,
): CellResult {
  const message = error instanceof Error ? error.message : String(error);
  const first = message.split("\n")[0].replace(/\.$/, "");
  return {
    id: cell.id,
    axes: cell.axes,
    outcome: "error",
    reason: `Infrastructure error: ${first}`,
    ...(phase === undefined ? {} : { phase }),
    tests: [],
    timings: {},
    logs: {},
    attempts: 1,
    flaky: false,
    facts: {},
    started: started.toISOString(),
    finished: new Date().toISOString(),
  };
}

/**
 * Runs the cells and returns the summary of the whole run (cells kept from a resume included).
 * A cell whose run throws gets an "error" result and the others still run; an error that means
 * the host cannot go on (disk full: {@link isHostError}) also stops the run as an interruption
 * would, so that `--resume` finishes it once there is room again.
 */
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
  let halted = false;
  const stopped = () => opts.signal.aborted || halted;
  const worker = async () => {
    while (queue.length > 0 && !stopped()) {
      const cell = queue.shift()!;
      await reporter.onCellStart?.(cell);
      let result: CellResult | undefined;
      let attempts = 0;
      const outcomes: string[] = [];
      let base: string | undefined;
      while (attempts <= opts.retries && !stopped()) {
        attempts++;
        const started = new Date();
        let phase: Phase | undefined;
        try {
          base ??= await store.clearCellDir(cell.id);
          const dir = attempts === 1 ? base : `${base}/attempt-${attempts}`;
          result = await opts.runCell(cell, dir, opts.ctx, (p) => {
            phase = p;
            reporter.onCellPhase?.(cell, p);
          });
        } catch (error) {
          result = failedCellResult(cell, error, phase, started);
          if (isHostError(error)) halted = true;
        }
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
    status: stopped() ? "interrupted" : "complete",
    results: [...previous, ...results],
    planned: store.record.planned,
    seconds: (performance.now() - t0) / 1000,
  });
  await reporter.onEnd?.(summary);
  return summary;
}
