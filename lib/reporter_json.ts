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

/** Writes run.json through a RunStore. */
export class JsonReporter implements Reporter {
  readonly #store: RunStore;

  constructor(store: RunStore) {
    this.#store = store;
  }

  onCellEnd(_cell: Cell, result: CellResult): Promise<void> {
    return this.#store.recordCell(result);
  }

  onEnd(summary: RunSummary): Promise<void> {
    return this.#store.finish(summary.status);
  }
}
