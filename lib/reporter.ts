/**
 * The reporter interface: lifecycle hooks the runner calls through one {@linkcode MultiReporter},
 * so the terminal, run.json and JUnit outputs never reach into the runner (after playwright's
 * reporters).
 *
 * @module
 */

import type { RunSummary } from "./summary.ts";
import type { Cell, CellResult, Phase } from "./types.ts";

/** What `onBegin` receives. */
export interface RunInfo {
  runId: string;
  runDir: string;
  /** Cells this session will run, in order. */
  cells: Cell[];
  /** Results kept from before a resume (these cells will not run again). */
  previous?: CellResult[];
}

/** Lifecycle hooks; every hook is optional and may be async. */
export interface Reporter {
  onBegin?(info: RunInfo): void | Promise<void>;
  onCellStart?(cell: Cell): void | Promise<void>;
  onCellPhase?(cell: Cell, phase: Phase): void | Promise<void>;
  onCellEnd?(cell: Cell, result: CellResult): void | Promise<void>;
  onEnd?(summary: RunSummary): void | Promise<void>;
}

/** Name of a reporter hook. */
export type ReporterHook = keyof Reporter;

/** A failure of one reporter in one hook. */
export interface ReporterError {
  /** The reporter's class name. */
  reporter: string;
  hook: ReporterHook;
  error: unknown;
}

/** Options of {@linkcode MultiReporter}. */
export interface MultiReporterOptions {
  /** Told of every reporter failure; by default a one-line message on stderr. */
  onError?: (failure: ReporterError) => void;
}

/**
 * Calls every reporter's hook in turn, in the order given, awaiting each; a reporter that throws
 * or rejects is recorded in {@linkcode MultiReporter.errors} and the others still run.
 */
export class MultiReporter implements Reporter {
  readonly #reporters: Reporter[];
  readonly #onError: (failure: ReporterError) => void;
  /** Every failure so far, in order. */
  readonly errors: ReporterError[] = [];

  constructor(reporters: Reporter[], options: MultiReporterOptions = {}) {
    this.#reporters = [...reporters];
    this.#onError = options.onError ?? defaultOnError;
  }

  /** Adds a reporter; it receives the hooks called from now on. */
  add(reporter: Reporter): void {
    this.#reporters.push(reporter);
  }

  onBegin(info: RunInfo): Promise<void> {
    return this.#call("onBegin", (r) => r.onBegin?.(info));
  }

  onCellStart(cell: Cell): Promise<void> {
    return this.#call("onCellStart", (r) => r.onCellStart?.(cell));
  }

  onCellPhase(cell: Cell, phase: Phase): Promise<void> {
    return this.#call("onCellPhase", (r) => r.onCellPhase?.(cell, phase));
  }

  onCellEnd(cell: Cell, result: CellResult): Promise<void> {
    return this.#call("onCellEnd", (r) => r.onCellEnd?.(cell, result));
  }

  onEnd(summary: RunSummary): Promise<void> {
    return this.#call("onEnd", (r) => r.onEnd?.(summary));
  }

  async #call(hook: ReporterHook, invoke: (r: Reporter) => void | Promise<void>): Promise<void> {
    for (const reporter of this.#reporters) {
      try {
        await invoke(reporter);
      } catch (error) {
        const failure = { reporter: reporter.constructor?.name ?? "Reporter", hook, error };
        this.errors.push(failure);
        try {
          this.#onError(failure);
        } catch {
          // An error handler that throws must not stop the run either.
        }
      }
    }
  }
}

function defaultOnError(failure: ReporterError): void {
  const message = failure.error instanceof Error ? failure.error.message : String(failure.error);
  console.error(`Reporter ${failure.reporter} failed in ${failure.hook}: ${message}`);
}
