/**
 * The plan: a validated matrix ({@linkcode MatrixSpec}) expanded into cells, and the selection of
 * cells a run covers (`only` filter, `shard`).
 *
 * Expansion follows GitHub Actions' `strategy.matrix` exactly (see docs/matrix.md):
 * 1. the cartesian product of `axes`, in file order (the first axis varies slowest);
 * 2. minus every combination matched by an `exclude` entry (all of its keys equal; partial
 *    entries allowed);
 * 3. then, for each `include` entry in order: it is merged into every remaining original
 *    combination whose values agree on the entry's keys that are original axes (it never changes
 *    an original value, but may overwrite a value added by an earlier include); if it merges into
 *    none, it becomes a combination of its own (appended after the others).
 *
 * @module
 */

import type { AxisEffects, AxisValue, Cell, Expectation, PhaseTimeouts } from "./types.ts";
import type { MatrixSpec, SourcePos } from "./matrix_parse.ts";
import { didYouMean, MatrixError } from "./matrix_error.ts";

/** Values of the built-in axes a matrix does not list (`kernel` has none: it must be given). */
export const AXIS_DEFAULTS: Readonly<{
  testdevice: boolean;
  l1_smp: number;
  l2_smp: number;
  guest: string;
  debug: string;
  l2_cpu: string;
}> = {
  testdevice: true,
  l1_smp: 1,
  l2_smp: 1,
  guest: "busybox",
  debug: "none",
  l2_cpu: "host",
};

/** Timeouts (seconds) of a matrix that sets none. */
export const DEFAULT_TIMEOUTS: Readonly<PhaseTimeouts> = {
  build: 3600,
  l1_boot: 180,
  l2_boot: 300,
  clients: 300,
};

/** A matrix whose product has more combinations than this is refused. */
export const MAX_COMBINATIONS = 16384;

/** Built-in axes in the order they appear in ids and in `Cell.axes`. */
const BUILTIN_ORDER = ["kernel", "testdevice", "l1_smp", "l2_smp", "guest", "debug", "l2_cpu"];

/** A combination dropped by an exclude entry. */
export interface ExcludedCombination {
  axes: Record<string, AxisValue>;
  /** Which exclude entry dropped it, e.g. "exclude at matrix/nightly.yaml:31:5". */
  reason: string;
}

/** The cells of a matrix, in stable order, with an account of how they were made. */
export interface Plan {
  cells: Cell[];
  excluded: ExcludedCombination[];
  /** Human-readable lines: one per cell, one per dropped combination, then notes. */
  explain: string[];
}

/** One combination produced by {@linkcode expandCombinations}. */
export interface Combination {
  values: Record<string, AxisValue>;
  /** Index of the include entry that created it, or undefined for a product combination. */
  createdBy?: number;
  /** Indexes of the include entries merged into it, in order. */
  mergedBy: number[];
}

/** What {@linkcode expandCombinations} returns. */
export interface Expansion {
  combinations: Combination[];
  /** Dropped product combinations, with the index of the first exclude entry matching each. */
  excluded: { values: Record<string, AxisValue>; by: number }[];
}

/**
 * GitHub Actions matrix expansion on plain values (the algorithm behind
 * {@linkcode expandMatrix}). Values are compared with `===`, so normalise them first.
 *
 * @example GitHub's "Expanding or adding matrix configurations" example
 * ```ts
 * expandCombinations(
 *   [{ name: "fruit", values: ["apple", "pear"] }, { name: "animal", values: ["cat", "dog"] }],
 *   [],
 *   [{ color: "green" }, { color: "pink", animal: "cat" }, { fruit: "apple", shape: "circle" },
 *    { fruit: "banana" }, { fruit: "banana", animal: "cat" }],
 * ).combinations.map((c) => c.values);
 * // [{fruit: "apple", animal: "cat", color: "pink", shape: "circle"},
 * //  {fruit: "apple", animal: "dog", color: "green", shape: "circle"},
 * //  {fruit: "pear", animal: "cat", color: "pink"}, {fruit: "pear", animal: "dog", color: "green"},
 * //  {fruit: "banana"}, {fruit: "banana", animal: "cat"}]
 * ```
 */
export function expandCombinations(
  axes: readonly { name: string; values: readonly AxisValue[] }[],
  exclude: readonly Record<string, AxisValue>[],
  include: readonly Record<string, AxisValue>[],
): Expansion {
  const original = new Set(axes.map((axis) => axis.name));
  const kept: Combination[] = [];
  const excluded: Expansion["excluded"] = [];
  for (const values of product(axes)) {
    const by = exclude.findIndex((entry) => matches(entry, values));
    if (by >= 0) excluded.push({ values, by });
    else kept.push({ values, mergedBy: [] });
  }
  const created: Combination[] = [];
  include.forEach((entry, index) => {
    let merged = false;
    for (const combination of kept) {
      const agrees = Object.entries(entry).every(([key, value]) =>
        !original.has(key) || combination.values[key] === value
      );
      if (!agrees) continue;
      Object.assign(combination.values, entry);
      combination.mergedBy.push(index);
      merged = true;
    }
    if (!merged) created.push({ values: { ...entry }, createdBy: index, mergedBy: [] });
  });
  return { combinations: [...kept, ...created], excluded };
}

/**
 * Expands a matrix into its cells (see the module documentation for the rules).
 *
 * Cell ids are `<kernel>-td-<on|off>-l1smp<n>-l2smp<n>-<guest>`, then `-<debug>` unless debug is
 * "none", `-l2cpu-<model>` unless l2_cpu is "host", and `-<axis>-<value>` for each user axis
 * (in the order of `axes`, then of `axis_options`); characters outside `[a-z0-9._-]` become `_`.
 *
 * @throws {MatrixError} if the matrix has more than {@linkcode MAX_COMBINATIONS} combinations, no
 * cell at all, an include that creates a cell without a kernel, or two cells with the same id.
 */
export function expandMatrix(spec: MatrixSpec): Plan {
  const count = spec.axes.reduce((n, axis) => n * axis.values.length, 1);
  if (count > MAX_COMBINATIONS) {
    throw located(
      spec,
      spec.positions.axes,
      `Matrix has ${count} combinations, more than the limit of ${MAX_COMBINATIONS}`,
      "split it into several matrix files, or trim it with exclude",
    );
  }
  const expansion = expandCombinations(
    spec.axes,
    spec.exclude.map((entry) => entry.values),
    spec.include.map((entry) => entry.values),
  );
  if (expansion.combinations.length === 0) throw emptyMatrix(spec, expansion);

  const userAxes = [
    ...spec.axes.filter((axis) => !axis.builtin).map((axis) => axis.name),
    ...Object.keys(spec.axisOptions),
  ].filter((axis, index, all) => all.indexOf(axis) === index);
  const explain: string[] = [];
  const cells: Cell[] = [];
  const byId = new Map<string, Cell>();
  const usedExpect = new Set<number>();
  const usedTimeouts = new Set<number>();

  for (const combination of expansion.combinations) {
    const origin = describeOrigin(spec, combination);
    const blame = combination.createdBy ?? combination.mergedBy.at(-1);
    const blamePos = blame === undefined ? spec.positions.axes : spec.include[blame].pos;
    const kernel = combination.values.kernel;
    if (typeof kernel !== "string") {
      throw located(
        spec,
        blamePos,
        "Include entry matches no combination and has no kernel, so it would make a cell without a kernel",
        "add a kernel to it, or change it so that it matches a combination",
      );
    }
    const axes = cellAxes(kernel, combination.values, userAxes);
    const id = cellId(axes, userAxes);
    const { expect, notes: expectNotes } = expectation(spec, axes, usedExpect);
    const { timeouts, notes: timeoutNotes } = cellTimeouts(spec, axes, usedTimeouts);
    const cell: Cell = {
      id,
      axes,
      kernel,
      testdevice: axes.testdevice as boolean,
      l1_smp: axes.l1_smp as number,
      l2_smp: axes.l2_smp as number,
      guest: axes.guest as string,
      debug: axes.debug as string,
      l2_cpu: axes.l2_cpu as string,
      expect,
      timeouts,
      effects: cellEffects(spec, axes, userAxes),
      origin,
    };
    const clash = byId.get(id);
    if (clash !== undefined) {
      throw located(
        spec,
        blamePos,
        `Two cells have the id "${id}"`,
        `the first: ${clash.origin}; the second: ${origin}`,
      );
    }
    byId.set(id, cell);
    cells.push(cell);
    explain.push(`${id}: ${origin}`);
    for (const note of [...expectNotes, ...timeoutNotes]) explain.push(`  ${note}`);
  }

  const excluded: ExcludedCombination[] = expansion.excluded.map(({ values, by }) => {
    const reason = `exclude at ${where(spec, spec.exclude[by].pos)}`;
    explain.push(`dropped ${formatValues(values)}: by ${reason}`);
    return { axes: values, reason };
  });

  const usedExclude = new Set(expansion.excluded.map((dropped) => dropped.by));
  spec.exclude.forEach((entry, index) => {
    if (!usedExclude.has(index)) {
      explain.push(
        `note: exclude at ${where(spec, entry.pos)} drops nothing` +
          " (earlier excludes already dropped what it matches)",
      );
    }
  });
  spec.expect.forEach((rule, index) => {
    if (!usedExpect.has(index)) {
      explain.push(`note: expect rule at ${where(spec, rule.pos)} matches no cell`);
    }
  });
  spec.timeoutsFor.forEach((rule, index) => {
    if (!usedTimeouts.has(index)) {
      explain.push(`note: timeouts_for rule at ${where(spec, rule.pos)} matches no cell`);
    }
  });
  return { cells, excluded, explain };
}

function emptyMatrix(spec: MatrixSpec, expansion: Expansion): MatrixError {
  const culprits = [...new Set(expansion.excluded.map((dropped) => dropped.by))];
  if (culprits.length === 1) {
    const entry = spec.exclude[culprits[0]];
    return located(
      spec,
      entry.pos,
      "Matrix has no cells: this exclude drops every combination",
      "an exclude drops every combination that has all of its values",
    );
  }
  const lines = culprits.map((index) => spec.exclude[index].pos.line).join(", ");
  return located(
    spec,
    spec.positions.exclude ?? spec.positions.axes,
    `Matrix has no cells: the excludes at lines ${lines} drop every combination`,
  );
}

function cellAxes(
  kernel: string,
  values: Record<string, AxisValue>,
  userAxes: readonly string[],
): Record<string, AxisValue> {
  const axes: Record<string, AxisValue> = { kernel };
  for (const [axis, fallback] of Object.entries(AXIS_DEFAULTS)) {
    axes[axis] = values[axis] ?? fallback;
  }
  for (const axis of userAxes) {
    if (values[axis] !== undefined) axes[axis] = values[axis];
  }
  return axes;
}

function cellId(axes: Record<string, AxisValue>, userAxes: readonly string[]): string {
  const parts = [
    slug(axes.kernel),
    `td-${axes.testdevice ? "on" : "off"}`,
    `l1smp${axes.l1_smp}`,
    `l2smp${axes.l2_smp}`,
    slug(axes.guest),
  ];
  if (axes.debug !== AXIS_DEFAULTS.debug) parts.push(slug(axes.debug));
  if (axes.l2_cpu !== AXIS_DEFAULTS.l2_cpu) parts.push(`l2cpu-${slug(axes.l2_cpu)}`);
  for (const axis of userAxes) {
    if (axes[axis] !== undefined) parts.push(`${slug(axis)}-${slug(axes[axis])}`);
  }
  return parts.join("-");
}

function slug(value: AxisValue): string {
  return String(value).toLowerCase().replace(/[^a-z0-9._-]/g, "_");
}

function matches(when: Record<string, AxisValue>, values: Record<string, AxisValue>): boolean {
  return Object.entries(when).every(([key, value]) => values[key] === value);
}

function expectation(
  spec: MatrixSpec,
  axes: Record<string, AxisValue>,
  used: Set<number>,
): { expect: Expectation; notes: string[] } {
  const expect: Expectation = {
    support: axes.testdevice ? "supported" : "unsupported",
    outcome: "pass",
  };
  const notes: string[] = [];
  spec.expect.forEach((rule, index) => {
    if (!matches(rule.when, axes)) return;
    used.add(index);
    const set: string[] = [];
    if (rule.support !== undefined) {
      expect.support = rule.support;
      set.push(`support=${rule.support}`);
    }
    if (rule.outcome !== undefined) {
      expect.outcome = rule.outcome;
      set.push(`outcome=${rule.outcome}`);
    }
    if (rule.reason !== undefined) expect.reason = rule.reason;
    notes.push(
      `expect rule at ${where(spec, rule.pos)} sets ${set.join(" ")}` +
        (rule.reason === undefined ? "" : ` (${rule.reason})`),
    );
  });
  return { expect, notes };
}

function cellTimeouts(
  spec: MatrixSpec,
  axes: Record<string, AxisValue>,
  used: Set<number>,
): { timeouts: PhaseTimeouts; notes: string[] } {
  const timeouts: PhaseTimeouts = { ...spec.timeouts };
  const notes: string[] = [];
  spec.timeoutsFor.forEach((rule, index) => {
    if (!matches(rule.when, axes)) return;
    used.add(index);
    Object.assign(timeouts, rule.timeouts);
    const set = Object.entries(rule.timeouts).map(([key, value]) => `${key}=${value}`);
    notes.push(`timeouts_for rule at ${where(spec, rule.pos)} sets ${set.join(" ")}`);
  });
  return { timeouts, notes };
}

function cellEffects(
  spec: MatrixSpec,
  axes: Record<string, AxisValue>,
  userAxes: readonly string[],
): AxisEffects {
  const effects: AxisEffects = {
    l1_config: [],
    l2_config: [],
    l1_qemu: [],
    l2_qemu: [],
    l1_append: [],
    l2_append: [],
  };
  for (const axis of userAxes) {
    const value = axes[axis];
    if (value === undefined) continue;
    const options = spec.axisOptions[axis];
    if (options === undefined || !Object.hasOwn(options, String(value))) continue;
    const more = options[String(value)];
    for (const path of more.l1_config) {
      if (!effects.l1_config.includes(path)) effects.l1_config.push(path);
    }
    for (const path of more.l2_config) {
      if (!effects.l2_config.includes(path)) effects.l2_config.push(path);
    }
    effects.l1_qemu.push(...more.l1_qemu);
    effects.l2_qemu.push(...more.l2_qemu);
    effects.l1_append.push(...more.l1_append);
    effects.l2_append.push(...more.l2_append);
  }
  return effects;
}

function describeOrigin(spec: MatrixSpec, combination: Combination): string {
  const parts: string[] = [];
  if (combination.createdBy === undefined) {
    parts.push("product of axes");
  } else {
    const entry = spec.include[combination.createdBy];
    parts.push(`created by include at ${where(spec, entry.pos)} (it matched no combination)`);
  }
  const original = new Set(spec.axes.map((axis) => axis.name));
  for (const index of combination.mergedBy) {
    const entry = spec.include[index];
    const added = Object.entries(entry.values).filter(([key]) => !original.has(key));
    parts.push(
      added.length === 0
        ? `include at ${where(spec, entry.pos)} matched (adds nothing)`
        : `include at ${where(spec, entry.pos)} added ${formatValues(Object.fromEntries(added))}`,
    );
  }
  return parts.join("; ");
}

function formatValues(values: Record<string, AxisValue>): string {
  return Object.entries(values).map(([key, value]) => `${key}=${formatAxisValue(key, value)}`)
    .join(" ");
}

/** How an axis value is written in ids, filters and explanations (`testdevice` as on/off). */
export function formatAxisValue(axis: string, value: AxisValue): string {
  if (axis === "testdevice" && typeof value === "boolean") return value ? "on" : "off";
  return String(value);
}

function where(spec: MatrixSpec, pos: SourcePos): string {
  return `${spec.file}:${pos.line}:${pos.column}`;
}

function located(spec: MatrixSpec, pos: SourcePos, problem: string, hint?: string): MatrixError {
  return new MatrixError({ file: spec.file, line: pos.line, column: pos.column, problem, hint });
}

function* product(
  axes: readonly { name: string; values: readonly AxisValue[] }[],
): Generator<Record<string, AxisValue>> {
  if (axes.length === 0 || axes.some((axis) => axis.values.length === 0)) return;
  const indexes = axes.map(() => 0);
  while (true) {
    const values: Record<string, AxisValue> = {};
    axes.forEach((axis, i) => values[axis.name] = axis.values[indexes[i]]);
    yield values;
    let i = axes.length - 1;
    while (i >= 0 && ++indexes[i] === axes[i].values.length) indexes[i--] = 0;
    if (i < 0) return;
  }
}

// ---------------------------------------------------------------------------------------------
// Selection: only and shard

/** Shard K of N (1-based): every N-th cell of the stable order, starting with the K-th. */
export interface Shard {
  index: number;
  count: number;
}

/** Options of {@linkcode selectCells}. */
export interface SelectOptions {
  /** A filter, see {@linkcode parseOnly}. */
  only?: string;
  shard?: Shard;
}

/** A bad `only` filter or shard, given by the user. */
export class SelectionError extends Error {
  /** The text that was given. */
  readonly input: string;
  /** What is wrong, without hint. */
  readonly problem: string;
  /** How to fix it, if known. */
  readonly hint?: string;

  constructor(input: string, problem: string, hint?: string) {
    super(hint === undefined ? problem : `${problem} (${hint})`);
    this.name = "SelectionError";
    this.input = input;
    this.problem = problem;
    if (hint !== undefined) this.hint = hint;
  }
}

/** A parsed `only` filter. */
export interface OnlyFilter {
  /** Axis name (or "id") -> accepted values: a cell must match one value of every key. */
  keys: Map<string, string[]>;
  /** Substrings of ids: a cell must contain one of them (when there are any). */
  substrings: string[];
}

/**
 * Parses an `only` filter: comma-separated terms, each either `key=value` or a bare substring.
 *
 * - `axis=value` keeps cells whose axis has that value (`testdevice` takes on/off/true/false);
 *   several terms with the same key are alternatives (or), different keys must all hold (and).
 * - `id=<id>` keeps the cell with exactly that id.
 * - a bare term keeps cells whose id contains it; several bare terms are alternatives, and
 *   together must hold along with the `key=value` terms.
 *
 * Matching ignores case and spaces around terms. An empty text selects everything.
 *
 * @example
 * ```ts
 * parseOnly("kernel=6.1,kernel=6.12,guest=busybox"); // (6.1 or 6.12) and busybox
 * parseOnly("kasan,l2smp2"); // ids containing "kasan" or "l2smp2"
 * ```
 */
export function parseOnly(text: string): OnlyFilter {
  const filter: OnlyFilter = { keys: new Map(), substrings: [] };
  if (text.trim() === "") return filter;
  for (const raw of text.split(",")) {
    const term = raw.trim();
    if (term === "") {
      throw new SelectionError(text, `Empty term in filter "${text}"`, "remove the extra comma");
    }
    const eq = term.indexOf("=");
    if (eq < 0) {
      filter.substrings.push(term.toLowerCase());
      continue;
    }
    const key = term.slice(0, eq).trim().toLowerCase();
    const value = term.slice(eq + 1).trim().toLowerCase();
    if (key === "" || value === "") {
      throw new SelectionError(
        text,
        `Incomplete term "${term}" in filter "${text}"`,
        "write key=value, e.g. kernel=6.12",
      );
    }
    const values = filter.keys.get(key) ?? [];
    values.push(key === "testdevice" ? onOff(value) : value);
    filter.keys.set(key, values);
  }
  return filter;
}

function onOff(value: string): string {
  if (value === "true") return "on";
  if (value === "false") return "off";
  return value;
}

/**
 * Parses a shard "K/N" (1 <= K <= N), e.g. "2/4".
 *
 * @throws {SelectionError} for anything else
 */
export function parseShard(text: string): Shard {
  const match = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (match === null) {
    throw new SelectionError(text, `Invalid shard "${text}"`, 'write K/N, e.g. "2/4"');
  }
  const shard = { index: Number(match[1]), count: Number(match[2]) };
  checkShard(shard, text);
  return shard;
}

function checkShard(shard: Shard, text: string): void {
  const { index, count } = shard;
  if (!Number.isSafeInteger(count) || count < 1) {
    throw new SelectionError(
      text,
      `Invalid shard "${text}": the shard count must be at least 1`,
      'write K/N, e.g. "2/4"',
    );
  }
  if (!Number.isSafeInteger(index) || index < 1 || index > count) {
    throw new SelectionError(
      text,
      `Invalid shard "${text}": the index must be between 1 and ${count}`,
    );
  }
}

/**
 * The cells a run covers: those matching `only` (see {@linkcode parseOnly}), then, of those,
 * shard K/N: the cells at positions K, K+N, K+2N... (1-based), so that N machines given the same
 * filter and shards 1/N to N/N cover every selected cell exactly once. Order is kept.
 *
 * @throws {SelectionError} for a bad shard, or an `only` term that names an unknown axis or
 * matches no cell on its own (usually a typo)
 */
export function selectCells(cells: readonly Cell[], options: SelectOptions = {}): Cell[] {
  let selected = [...cells];
  if (options.only !== undefined) {
    const filter = parseOnly(options.only);
    checkFilter(cells, filter, options.only);
    selected = selected.filter((cell) => matchesOnly(cell, filter));
  }
  if (options.shard !== undefined) {
    const { index, count } = options.shard;
    checkShard(options.shard, `${index}/${count}`);
    selected = selected.filter((_, position) => position % count === index - 1);
  }
  return selected;
}

/** Whether `cell` passes `filter`. */
export function matchesOnly(cell: Cell, filter: OnlyFilter): boolean {
  for (const [key, values] of filter.keys) {
    if (!values.some((value) => cellValue(cell, key) === value)) return false;
  }
  const id = cell.id.toLowerCase();
  return filter.substrings.length === 0 || filter.substrings.some((text) => id.includes(text));
}

function cellValue(cell: Cell, key: string): string | undefined {
  if (key === "id") return cell.id.toLowerCase();
  const value = cell.axes[key];
  return value === undefined ? undefined : formatAxisValue(key, value).toLowerCase();
}

function checkFilter(cells: readonly Cell[], filter: OnlyFilter, text: string): void {
  const keys = new Set<string>(["id", ...BUILTIN_ORDER]);
  for (const cell of cells) for (const key of Object.keys(cell.axes)) keys.add(key);
  for (const [key, values] of filter.keys) {
    if (!keys.has(key)) {
      throw new SelectionError(
        text,
        `Unknown axis "${key}" in filter "${text}"`,
        didYouMean(key, keys) ?? `axes: ${[...keys].join(", ")}`,
      );
    }
    const taken = [...new Set(cells.map((cell) => cellValue(cell, key)))]
      .filter((value): value is string => value !== undefined);
    for (const value of values) {
      if (!taken.includes(value)) {
        throw new SelectionError(
          text,
          `No cell has ${key}=${value} (filter "${text}")`,
          didYouMean(value, taken) ??
            (key === "id" ? undefined : `values of ${key}: ${taken.join(", ")}`),
        );
      }
    }
  }
  for (const substring of filter.substrings) {
    if (!cells.some((cell) => cell.id.toLowerCase().includes(substring))) {
      throw new SelectionError(text, `No cell id contains "${substring}" (filter "${text}")`);
    }
  }
}
