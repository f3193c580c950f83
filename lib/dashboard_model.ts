/**
 * What the dashboard shows, computed from a history of run records, with no HTML: how outcomes
 * look, where each cell sits in the grid, what changed since the previous run, pass rates and
 * the facts of a run.
 *
 * @module
 */

import { isUnexpected } from "./classify.ts";
import type { RunRecord } from "./results.ts";
import { cellSeconds, countOutcomes, formatCounts, formatDuration } from "./summary.ts";
import type { AxisValue, CellResult, Outcome } from "./types.ts";

/** An outcome, or a planned cell without a result. */
export type Shown = Outcome | "not-run";

/** How an outcome is shown: always a symbol and a word, the class only adds colour. */
export interface OutcomeLook {
  symbol: string;
  text: string;
  /** CSS class, `o-<outcome>`. */
  cls: string;
}

const LOOKS: Record<Shown, [string, string]> = {
  "pass": ["✔", "pass"],
  "xfail": ["⊖", "xfail"],
  "skip": ["○", "skip"],
  "fail": ["✘", "fail"],
  "xpass": ["❗", "xpass"],
  "error": ["⛔", "error"],
  "build-error": ["🔨", "build-error"],
  "timeout": ["⏱", "timeout"],
  "crash": ["💥", "crash"],
  "not-run": ["·", "not run"],
};

/** Symbol, word and class of an outcome. */
export function outcomeLook(outcome: Shown): OutcomeLook {
  const [symbol, text] = LOOKS[outcome] ?? ["?", String(outcome)];
  return { symbol, text, cls: `o-${outcome}` };
}

/** The flaky marker shown next to an outcome. */
export const FLAKY: Readonly<{ symbol: string; text: string }> = { symbol: "⚠", text: "flaky" };

/** Whether an outcome counts as good: pass or a known failure (xfail). */
export function isGood(outcome: Outcome): boolean {
  return outcome === "pass" || outcome === "xfail";
}

// ---------------------------------------------------------------------------------------------
// Grid

/** Where a cell sits: its row (kernel and TESTDEVICE) and column (everything else). */
export interface CellPlace {
  row: string;
  column: string;
}

const ID = /^(.+?)-td-(on|off)-(.+)$/;

/** The built-in axes, which the row and the first words of the column show in their own way. */
const BUILT_IN = new Set(["kernel", "testdevice", "l1_smp", "l2_smp", "guest", "debug", "l2_cpu"]);

/**
 * Where a cell sits: its row, `<kernel> · TESTDEVICE <on|off>`, and its column made of the other
 * axes, e.g. `L1×2 L2×1 busybox kasan L2 CPU host,-xsave scenario fuzz`. From the cell's axis
 * values when its results have them (the debug axis shown unless "none", the L2 CPU model
 * unless "host", then each user axis as "name value"); otherwise read from the cell id (see
 * docs/matrix.md, "Cell ids"), where values lose the characters an id cannot hold. Ids of
 * another form go to the row "other" with the id as the column.
 */
export function cellPlace(id: string, axes?: Readonly<Record<string, AxisValue>>): CellPlace {
  if (axes !== undefined && axes.kernel !== undefined && axes.testdevice !== undefined) {
    const words = [
      `L1×${axes.l1_smp ?? 1} L2×${axes.l2_smp ?? 1}`,
      String(axes.guest ?? "busybox"),
    ];
    if (axes.debug !== undefined && axes.debug !== "none") words.push(String(axes.debug));
    if (axes.l2_cpu !== undefined && axes.l2_cpu !== "host") words.push(`L2 CPU ${axes.l2_cpu}`);
    for (const [name, value] of Object.entries(axes)) {
      if (!BUILT_IN.has(name)) words.push(`${name} ${value}`);
    }
    const td = axes.testdevice === true || axes.testdevice === "on" ? "on" : "off";
    return { row: `${axes.kernel} · TESTDEVICE ${td}`, column: words.join(" ") };
  }
  const match = ID.exec(id);
  if (match === null) return { row: "other", column: id };
  const column = match[3]
    .replace(/^l1smp(\d+)-l2smp(\d+)(?=-|$)/, "L1×$1 L2×$2")
    .replace(/-/g, " ");
  return { row: `${match[1]} · TESTDEVICE ${match[2]}`, column };
}

/** Rows and columns of a grid, and the cell at each place. */
export interface Grid {
  rows: string[];
  columns: string[];
  /** Cell id by `row + "\n" + column`. */
  at: Map<string, string>;
}

/**
 * The grid of some cell ids: rows and columns in the order they first appear. `axesOf` gives a
 * cell's axis values where known (see {@linkcode cellPlace}).
 */
export function gridOf(
  ids: readonly string[],
  axesOf: (id: string) => Readonly<Record<string, AxisValue>> | undefined = () => undefined,
): Grid {
  const rows: string[] = [];
  const columns: string[] = [];
  const at = new Map<string, string>();
  const seenRow = new Set<string>();
  const seenColumn = new Set<string>();
  for (const id of ids) {
    const { row, column } = cellPlace(id, axesOf(id));
    if (!seenRow.has(row)) {
      seenRow.add(row);
      rows.push(row);
    }
    if (!seenColumn.has(column)) {
      seenColumn.add(column);
      columns.push(column);
    }
    if (!at.has(`${row}\n${column}`)) at.set(`${row}\n${column}`, id);
  }
  return { rows, columns, at };
}

/** Every cell id of a run: the planned ones in plan order, then any other with a result. */
export function runCellIds(record: RunRecord): string[] {
  const ids = [...record.planned];
  const seen = new Set(ids);
  for (const cell of record.cells) if (!seen.has(cell.id)) ids.push(cell.id);
  return ids;
}

// ---------------------------------------------------------------------------------------------
// History

/** What changed for a cell since its previous result. */
export type ChangeKind = "regression" | "new-failure" | "fix" | "still-failing";

/** Order of the change lists: regressions first. */
export const CHANGE_ORDER: readonly ChangeKind[] = [
  "regression",
  "new-failure",
  "fix",
  "still-failing",
];

/** A cell whose result matters against its previous one. */
export interface CellChange {
  id: string;
  kind: ChangeKind;
  result: CellResult;
  /** The cell's most recent earlier result. */
  before?: { run_id: string; outcome: Outcome };
}

/** Runs oldest first, with each run's results by cell id. */
export class HistoryIndex {
  readonly runs: readonly RunRecord[];
  readonly #byId: Map<string, CellResult>[];

  constructor(runs: readonly RunRecord[]) {
    this.runs = runs;
    this.#byId = runs.map((run) => new Map(run.cells.map((c) => [c.id, c])));
  }

  /** The result of a cell in run `index`. */
  result(index: number, id: string): CellResult | undefined {
    return this.#byId[index]?.get(id);
  }

  /** The cell's most recent result before run `index`, and that run's position. */
  previous(index: number, id: string): { index: number; result: CellResult } | undefined {
    for (let i = index - 1; i >= 0; i--) {
      const result = this.#byId[i].get(id);
      if (result !== undefined) return { index: i, result };
    }
    return undefined;
  }

  /**
   * What changed in run `index` (default: the latest): regressions (good before, unexpected
   * now), new failures (unexpected, with no good or bad result before), fixes (unexpected
   * before, good now) and cells still failing, in {@linkcode CHANGE_ORDER} then plan order.
   */
  changes(index: number = this.runs.length - 1): CellChange[] {
    const run = this.runs[index];
    if (run === undefined) return [];
    const out: CellChange[] = [];
    for (const id of runCellIds(run)) {
      const result = this.result(index, id);
      if (result === undefined) continue;
      let prior = this.previous(index, id);
      while (prior !== undefined && prior.result.outcome === "skip") {
        prior = this.previous(prior.index, id);
      }
      const before = prior === undefined
        ? undefined
        : { run_id: this.runs[prior.index].run_id, outcome: prior.result.outcome };
      const bad = isUnexpected(result.outcome);
      let kind: ChangeKind | undefined;
      if (before === undefined) kind = bad ? "new-failure" : undefined;
      else if (bad) kind = isUnexpected(before.outcome) ? "still-failing" : "regression";
      else if (isGood(result.outcome) && isUnexpected(before.outcome)) kind = "fix";
      if (kind !== undefined) out.push({ id, kind, result, ...(before ? { before } : {}) });
    }
    return out.sort((a, b) => CHANGE_ORDER.indexOf(a.kind) - CHANGE_ORDER.indexOf(b.kind));
  }

  /** Cells of run `index` (default: the latest) that no earlier run has, in plan order. */
  newCells(index: number = this.runs.length - 1): string[] {
    const run = this.runs[index];
    if (run === undefined) return [];
    return runCellIds(run).filter((id) =>
      this.result(index, id) !== undefined && this.previous(index, id) === undefined
    );
  }

  /** The cell's axis values from its latest result that records them. */
  axes(id: string): Readonly<Record<string, AxisValue>> | undefined {
    for (let i = this.#byId.length - 1; i >= 0; i--) {
      const axes = this.#byId[i].get(id)?.axes;
      if (axes !== undefined) return axes;
    }
    return undefined;
  }

  /** The cell's result in each run (undefined where it has none), oldest first. */
  track(id: string): Array<CellResult | undefined> {
    return this.#byId.map((m) => m.get(id));
  }

  /** Every cell id seen in any run: the latest run's first, then older ones. */
  allCellIds(): string[] {
    const ids: string[] = [];
    const seen = new Set<string>();
    for (let i = this.runs.length - 1; i >= 0; i--) {
      for (const id of runCellIds(this.runs[i])) {
        if (!seen.has(id)) {
          seen.add(id);
          ids.push(id);
        }
      }
    }
    return ids;
  }
}

/** How often a cell went from good to unexpected or back in its last `window` results. */
export function flipCount(track: ReadonlyArray<CellResult | undefined>, window = 10): number {
  const recent = track.filter((r): r is CellResult => r !== undefined && r.outcome !== "skip")
    .slice(-window);
  let flips = 0;
  for (let i = 1; i < recent.length; i++) {
    if (isUnexpected(recent[i].outcome) !== isUnexpected(recent[i - 1].outcome)) flips++;
  }
  return flips;
}

/** Share of a run's cells, skipped ones aside, that passed or failed as known (0..1). */
export function passRate(record: RunRecord): number | null {
  const judged = record.cells.filter((c) => c.outcome !== "skip");
  if (judged.length === 0) return null;
  return judged.filter((c) => isGood(c.outcome)).length / judged.length;
}

/** Wall-clock seconds of a run (finished minus started), null while running or unknown. */
export function runSeconds(record: RunRecord): number | null {
  if (record.finished === undefined) return null;
  const span = (Date.parse(record.finished) - Date.parse(record.started)) / 1000;
  return Number.isFinite(span) && span >= 0 ? span : null;
}

/** Seconds a cell took (see `cellSeconds`), null without a result. */
export function cellDuration(result: CellResult | undefined): number | null {
  return result === undefined ? null : cellSeconds(result);
}

// ---------------------------------------------------------------------------------------------
// Facts

function parseObject(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined || !text.startsWith("{")) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? value as Record<string, unknown>
      : undefined;
  } catch {
    return undefined;
  }
}

/** One line about a host from its run.json facts: name, CPU, cores, QEMU. */
export function hostSummary(host: Record<string, string>): string {
  const cpu = parseObject(host.cpu);
  const qemu = parseObject(host.qemu);
  const parts: string[] = [];
  if (host.hostname) parts.push(host.hostname);
  const model = typeof cpu?.model === "string" ? cpu.model : undefined;
  const vendor = typeof cpu?.vendor === "string" ? cpu.vendor : host.cpu_vendor;
  if (model ?? vendor) parts.push(model ?? vendor!);
  if (host.cores) parts.push(`${host.cores} cores`);
  const qemuVersion = typeof qemu?.version === "string" ? qemu.version : undefined;
  if (qemuVersion) parts.push(`QEMU ${qemuVersion}`);
  if (host.nested) parts.push(`nested ${host.nested}`);
  if (parts.length > 0) return parts.join(", ");
  const simple = Object.entries(host).filter(([, v]) => !v.startsWith("{") && !v.startsWith("["));
  return simple.slice(0, 4).map(([k, v]) => `${k}=${v}`).join(", ") || "unknown";
}

/** Distinct values of a cell fact, most common first, with their counts: "kvm (38), tcg (2)". */
export function factValues(cells: readonly CellResult[], fact: string): string {
  const counts = new Map<string, number>();
  for (const cell of cells) {
    const value = cell.facts[fact];
    if (value !== undefined && value !== "") counts.set(value, (counts.get(value) ?? 0) + 1);
  }
  const sorted = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  if (sorted.length === 1) return sorted[0][0];
  return sorted.map(([v, n]) => `${v} (${n})`).join(", ");
}

/** Label and value of each fact shown about a run, in display order; empty values left out. */
export function runFacts(record: RunRecord, now: Date = new Date()): Array<[string, string]> {
  const facts: Array<[string, string]> = [];
  const add = (label: string, value: string | undefined) => {
    if (value !== undefined && value !== "") facts.push([label, value]);
  };
  add("Status", record.status);
  add(
    "Matrix",
    `${record.matrix.name} (${record.matrix.file}, sha256 ${record.matrix.sha256.slice(0, 12)})`,
  );
  add("Started", record.started);
  const seconds = runSeconds(record);
  if (seconds !== null) add("Duration", formatDuration(seconds));
  else if (record.status === "running") {
    add(
      "Duration",
      `running for ${formatDuration((now.getTime() - Date.parse(record.started)) / 1000)}`,
    );
  }
  add("Cells", `${formatCounts(countOutcomes(record.cells))} of ${record.planned.length} planned`);
  add("L1 kernel", factValues(record.cells, "l1_kernel"));
  add("L2 kernel", factValues(record.cells, "l2_kernel"));
  add("Accel", factValues(record.cells, "accel") || record.host.accel);
  const commit = record.versions.vtcio;
  add("Commit", commit === undefined ? undefined : commit.slice(0, 12));
  const parts = record.merged?.parts ?? [];
  if (parts.length > 0) {
    const hosts = [...new Set(parts.map((p) => hostSummary(p.host)))];
    add("Host", hosts.join(" | "));
    const count = record.merged?.count;
    const missing = record.merged?.missing ?? [];
    add(
      "Shards",
      `${parts.length}${count === undefined ? "" : ` of ${count}`}` +
        (record.merged?.group ? ` (group ${record.merged.group})` : "") +
        (missing.length > 0 ? `, missing ${missing.join(", ")}` : ""),
    );
    const conflicts = record.merged?.conflicts ?? [];
    if (conflicts.length > 0) {
      add(
        "Conflicts",
        conflicts.map((c) =>
          `${c.id}: kept ${c.kept.outcome} of ${c.kept.run_id}, dropped ${
            c.dropped.map((d) => `${d.outcome} of ${d.run_id}`).join(", ")
          }`
        ).join("; "),
      );
    }
  } else {
    add("Host", hostSummary(record.host));
  }
  if (record.shard) {
    add("Shard", `${record.shard.index}/${record.shard.count} of group ${record.shard.group}`);
  }
  add("QEMU", record.versions.qemu);
  add("Deno", record.versions.deno);
  return facts;
}
