/**
 * Terminal output. On a real terminal, a live view redrawn at most a few times a second (the
 * cells running with their phase and elapsed time, counts by outcome, an ETA from the average
 * cell duration) under a permanent line per finished cell; elsewhere (CI, pipes) one plain
 * line per event. At the end, a summary table and, for every unexpected outcome, the command
 * that reruns just that cell.
 *
 * @module
 */

import { isUnexpected } from "./classify.ts";
import type { Reporter, RunInfo } from "./reporter.ts";
import {
  cellSeconds,
  countOutcomes,
  formatCounts,
  formatDuration,
  type RunSummary,
} from "./summary.ts";
import type { Cell, CellResult, Outcome, Phase } from "./types.ts";

/** Options of {@linkcode TerminalReporter}. */
export interface TerminalReporterOptions {
  /** Matrix file of the run, used by the default rerun command. */
  matrixFile: string;
  /** The command that reruns one cell; default {@linkcode defaultRerunCommand}. */
  rerunCommand?: (cellId: string) => string;
  /** Where output goes; default synchronous writes to stdout. */
  write?: (text: string) => void;
  /** Live view instead of plain lines; default: stdout is a terminal with a known width. */
  live?: boolean;
  /** Terminal width for the live view; default the console's. */
  columns?: number;
  /** ANSI colours; default on in live mode unless NO_COLOR is set. */
  color?: boolean;
  /** Live redraw period in ms (default 250); 0 redraws on every event, without a timer. */
  refreshMs?: number;
  /** Clock in ms, for tests; default Date.now. */
  now?: () => number;
}

/** `deno task matrix run <matrix-file> --only id=<cell-id>`, quoting what a shell would split. */
export function defaultRerunCommand(matrixFile: string): (cellId: string) => string {
  return (cellId) =>
    `deno task matrix run ${shellQuote(matrixFile)} --only id=${shellQuote(cellId)}`;
}

/** Quotes a word for POSIX shells when it needs it. */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Whether stdout is a terminal, and its width (0 when unknown). */
export function stdoutTerminal(): { isTerminal: boolean; columns: number } {
  try {
    if (!Deno.stdout.isTerminal()) return { isTerminal: false, columns: 0 };
    return { isTerminal: true, columns: Deno.consoleSize().columns };
  } catch {
    return { isTerminal: false, columns: 0 };
  }
}

function stdoutWriter(): (text: string) => void {
  const encoder = new TextEncoder();
  return (text) => {
    const bytes = encoder.encode(text);
    let offset = 0;
    while (offset < bytes.length) offset += Deno.stdout.writeSync(bytes.subarray(offset));
  };
}

interface Running {
  cell: Cell;
  phase?: Phase;
  start: number;
}

const COLORS: Record<Outcome, number> = {
  "pass": 32,
  "xfail": 33,
  "skip": 90,
  "fail": 31,
  "xpass": 35,
  "error": 31,
  "build-error": 31,
  "timeout": 31,
  "crash": 31,
};

const LABEL_WIDTH = "BUILD-ERROR".length;

/** The terminal reporter; see the module documentation. */
export class TerminalReporter implements Reporter {
  readonly #write: (text: string) => void;
  readonly #live: boolean;
  readonly #columns: number;
  readonly #color: boolean;
  readonly #refreshMs: number;
  readonly #now: () => number;
  readonly #rerun: (cellId: string) => string;

  #info: RunInfo = { runId: "", runDir: "", cells: [] };
  #begin = 0;
  #running = new Map<string, Running>();
  #maxParallel = 1;
  #results: CellResult[] = [];
  #durations: number[] = [];
  #blockLines = 0;
  #dirty = false;
  #lastDraw = 0;
  #timer: ReturnType<typeof setInterval> | undefined;
  /** Between onBegin and onEnd: the live block is shown. */
  #active = false;

  constructor(options: TerminalReporterOptions) {
    const terminal = options.live === undefined || options.columns === undefined
      ? stdoutTerminal()
      : { isTerminal: options.live, columns: options.columns };
    this.#columns = options.columns ?? terminal.columns;
    this.#live = options.live ?? (terminal.isTerminal && this.#columns > 0);
    this.#color = options.color ?? (this.#live && Deno.env.get("NO_COLOR") === undefined);
    this.#write = options.write ?? stdoutWriter();
    this.#refreshMs = options.refreshMs ?? 250;
    this.#now = options.now ?? Date.now;
    this.#rerun = options.rerunCommand ?? defaultRerunCommand(options.matrixFile);
  }

  onBegin(info: RunInfo): void {
    this.#info = info;
    this.#begin = this.#now();
    const kept = info.previous?.length ?? 0;
    const total = info.cells.length + kept;
    const resumed = kept === 0 ? "" : `, ${kept} kept from before`;
    this.#print(this.#fit(
      `Run ${info.runId}: ${plural(total, "cell")}${resumed}, results in ${info.runDir}`,
      this.#width(),
    ));
    this.#active = true;
    if (this.#live && this.#refreshMs > 0) {
      const timer = setInterval(() => this.#tick(), this.#refreshMs);
      Deno.unrefTimer(timer);
      this.#timer = timer;
    }
    this.#changed();
  }

  onCellStart(cell: Cell): void {
    this.#running.set(cell.id, { cell, start: this.#now() });
    this.#maxParallel = Math.max(this.#maxParallel, this.#running.size);
    if (this.#live) this.#changed();
    else this.#print(`${this.#stamp()} ${cell.id}: start`);
  }

  onCellPhase(cell: Cell, phase: Phase): void {
    const running = this.#running.get(cell.id);
    if (running !== undefined) running.phase = phase;
    if (this.#live) this.#changed();
    else this.#print(`${this.#stamp()} ${cell.id}: ${phase}`);
  }

  onCellEnd(cell: Cell, result: CellResult): void {
    const running = this.#running.get(cell.id);
    this.#running.delete(cell.id);
    const seconds = running === undefined
      ? cellSeconds(result)
      : (this.#now() - running.start) / 1000;
    this.#durations.push(seconds);
    this.#results.push(result);
    const done = this.#results.length + (this.#info.previous?.length ?? 0);
    const total = this.#info.cells.length + (this.#info.previous?.length ?? 0);
    const label = this.#label(result.outcome);
    if (this.#live) {
      const rest = ` ${cell.id}  ${formatDuration(seconds)}  ${result.reason}`;
      this.#print(`${label}${this.#fit(rest, this.#width() - LABEL_WIDTH)}`);
    } else {
      this.#print(
        `${this.#stamp()} ${cell.id}: ${label.trimEnd()} in ${
          formatDuration(seconds)
        } (${done}/${total}): ${result.reason}`,
      );
    }
  }

  onEnd(summary: RunSummary): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#active = false;
    this.#running.clear();
    const erase = this.#erase();
    this.#blockLines = 0;
    this.#write(erase + this.#summaryText(summary));
  }

  /** Writes a permanent line (already fitted to the width) above the live block. */
  #print(line: string): void {
    if (!this.#live) {
      this.#write(`${line}\n`);
      return;
    }
    const erase = this.#erase();
    this.#blockLines = 0;
    this.#write(`${erase}${line}\n${this.#block()}`);
  }

  #changed(): void {
    if (!this.#live) return;
    this.#dirty = true;
    if (this.#refreshMs === 0) this.#redraw();
  }

  #tick(): void {
    if (this.#dirty || this.#now() - this.#lastDraw >= 1000) this.#redraw();
  }

  #redraw(): void {
    this.#write(this.#erase() + this.#block());
  }

  /** Moves the cursor up over the last block and clears to the end of the screen. */
  #erase(): string {
    return this.#blockLines === 0 ? "" : `\x1b[${this.#blockLines}A\r\x1b[J`;
  }

  /** The live block; records its height. */
  #block(): string {
    this.#dirty = false;
    this.#lastDraw = this.#now();
    if (!this.#live || !this.#active) {
      this.#blockLines = 0;
      return "";
    }
    const now = this.#now();
    const previous = this.#info.previous ?? [];
    const done = this.#results.length + previous.length;
    const total = this.#info.cells.length + previous.length;
    const counts = countOutcomes([...previous, ...this.#results]);
    const eta = this.#eta(now);
    const head = `[${done}/${total}] ` + [
      `${this.#running.size} running`,
      done === 0 ? undefined : formatCounts(counts),
      `${formatDuration((now - this.#begin) / 1000)} elapsed`,
      eta === undefined ? undefined : `ETA ${formatDuration(eta)}`,
    ].filter((p) => p !== undefined).join(" · ");
    const idWidth = Math.max(0, ...[...this.#running.keys()].map((id) => id.length));
    const lines = [head];
    for (const { cell, phase, start } of this.#running.values()) {
      lines.push(
        `  ${cell.id.padEnd(idWidth)}  ${(phase ?? "starting").padEnd(8)}  ${
          formatDuration((now - start) / 1000)
        }`,
      );
    }
    this.#blockLines = lines.length;
    return lines.map((l) => `${this.#fit(l, this.#width())}\n`).join("");
  }

  /** Seconds left: remaining work at the average cell duration, spread over the parallelism. */
  #eta(now: number): number | undefined {
    const samples = this.#durations.length > 0
      ? this.#durations
      : (this.#info.previous ?? []).map(cellSeconds).filter((s) => s > 0);
    if (samples.length === 0) return undefined;
    const average = samples.reduce((a, b) => a + b, 0) / samples.length;
    const notStarted = Math.max(
      0,
      this.#info.cells.length - this.#results.length - this.#running.size,
    );
    let work = notStarted * average;
    for (const { start } of this.#running.values()) {
      work += Math.max(0, average - (now - start) / 1000);
    }
    return work / this.#maxParallel;
  }

  #summaryText(summary: RunSummary): string {
    const lines = [
      "",
      `Run ${summary.runId} ${summary.status} in ${formatDuration(summary.seconds)}`,
    ];
    if (summary.results.length > 0) {
      const idWidth = Math.max(4, ...summary.results.map((r) => r.id.length));
      lines.push(
        `  ${"OUTCOME".padEnd(LABEL_WIDTH)}  ${"TIME".padEnd(6)}  ${
          "CELL".padEnd(idWidth)
        }  REASON`,
      );
      for (const result of summary.results) {
        const rest = `  ${formatDuration(cellSeconds(result)).padEnd(6)}  ${
          result.id.padEnd(idWidth)
        }  ${result.reason}`;
        const width = this.#live ? this.#width() - 2 - LABEL_WIDTH : Infinity;
        lines.push(`  ${this.#label(result.outcome)}${this.#fit(rest, width)}`);
      }
    }
    lines.push(`${plural(summary.results.length, "cell")}: ${formatCounts(summary.counts)}`);
    if (summary.notRun.length > 0) {
      lines.push(`Not run: ${plural(summary.notRun.length, "cell")} (${summary.status})`);
    }
    lines.push(`Results: ${summary.runDir} (run.json, junit.xml)`);
    const unexpected = summary.results.filter((r) => isUnexpected(r.outcome));
    if (unexpected.length > 0) {
      lines.push(
        "",
        `${plural(unexpected.length, "unexpected outcome")}; rerun a cell with:`,
      );
      for (const result of unexpected) {
        lines.push(`  ${this.#rerun(result.id)}  # ${result.outcome}`);
      }
    }
    return lines.map((l) => `${l}\n`).join("");
  }

  /** Outcome label, padded to a fixed width, coloured in colour mode. */
  #label(outcome: Outcome): string {
    const text = outcome.toUpperCase().padEnd(LABEL_WIDTH);
    return this.#color ? `\x1b[${COLORS[outcome]}m${text}\x1b[0m` : text;
  }

  #stamp(): string {
    const seconds = Math.max(0, Math.floor((this.#now() - this.#begin) / 1000));
    const h = Math.floor(seconds / 3600);
    const mm = String(Math.floor(seconds / 60) % 60).padStart(2, "0");
    const ss = String(seconds % 60).padStart(2, "0");
    return h > 0 ? `[${h}:${mm}:${ss}]` : `[${mm}:${ss}]`;
  }

  /** Usable width: one column less than the terminal's, so lines never wrap. */
  #width(): number {
    return this.#columns > 1 ? this.#columns - 1 : Infinity;
  }

  #fit(text: string, width: number): string {
    if (!this.#live || text.length <= width) return text;
    return width <= 1 ? "" : `${text.slice(0, width - 1)}…`;
  }
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}
