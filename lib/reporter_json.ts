/**
 * Keeps run.json current: records every finished cell through the {@linkcode RunStore} (which
 * rewrites the file atomically) and marks the run complete or interrupted at the end.
 *
 * @module
 */

import type { Reporter } from "./reporter.ts";
import type { RunStore } from "./results.ts";
import type { RunSummary } from "./summary.ts";
import type { Cell, CellResult } from "./types.ts";
import type { RunnerTimes } from "./run_time.ts";

/** Writes run.json through a RunStore. */
export class JsonReporter implements Reporter {
  readonly #store: RunStore;
  readonly #times?: () => RunnerTimes;

  /** `times`, if given, is asked at the end for the record's `runner` field. */
  constructor(store: RunStore, times?: () => RunnerTimes) {
    this.#store = store;
    this.#times = times;
  }

  onCellEnd(_cell: Cell, result: CellResult): Promise<void> {
    return this.#store.recordCell(result);
  }

  onEnd(summary: RunSummary): Promise<void> {
    return this.#store.finish(summary.status, this.#times?.());
  }
}
