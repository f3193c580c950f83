/**
 * Keeps junit.xml current: rewritten atomically after every cell and at the end, so CI finds a
 * valid file even when a run is cut short. Cells kept from before a resume are included.
 *
 * @module
 */

import { toJunitXml } from "./junit.ts";
import type { Reporter, RunInfo } from "./reporter.ts";
import { writeFileAtomic } from "./results.ts";
import type { RunSummary } from "./summary.ts";
import type { Cell, CellResult } from "./types.ts";

/** Writes a JUnit XML file of every finished cell. */
export class JunitReporter implements Reporter {
  readonly #path: string;
  readonly #results = new Map<string, CellResult>();
  #queue: Promise<void> = Promise.resolve();

  /** @param path Where to write, usually `RunStore.junitPath`. */
  constructor(path: string) {
    this.#path = path;
  }

  onBegin(info: RunInfo): Promise<void> {
    for (const result of info.previous ?? []) this.#results.set(result.id, result);
    return this.#save();
  }

  onCellEnd(_cell: Cell, result: CellResult): Promise<void> {
    this.#results.delete(result.id);
    this.#results.set(result.id, result);
    return this.#save();
  }

  onEnd(summary: RunSummary): Promise<void> {
    for (const result of summary.results) {
      if (!this.#results.has(result.id)) this.#results.set(result.id, result);
    }
    return this.#save();
  }

  /** Writes are serialised so the file always ends with the latest state. */
  #save(): Promise<void> {
    const write = () => writeFileAtomic(this.#path, toJunitXml([...this.#results.values()]));
    const next = this.#queue.then(write, write);
    this.#queue = next.catch(() => {});
    return next;
  }
}
