/**
 * Parser for matrix files (`matrix/*.yaml`, described in docs/matrix.md): YAML text in, a
 * validated {@linkcode MatrixSpec} out, or a {@linkcode MatrixError} that points at the offending
 * node (`file:line:column`).
 *
 * Validation runs in phases, each reporting all of its problems at once:
 * 1. size (at most {@linkcode MAX_MATRIX_BYTES}), UTF-8 ({@linkcode decodeMatrix}), control
 *    characters, nesting (at most {@linkcode MAX_MATRIX_NESTING} levels), YAML syntax, duplicate
 *    keys, aliases that expand too far;
 * 2. the JSON Schema `matrix/schema.json` (types, enums, ranges, unknown keys);
 * 3. cross-references: user axes and their `axis_options`, include/exclude/expect axis names,
 *    values that can never match;
 * 4. expansion with {@linkcode expandMatrix}: an empty matrix, clashing cell ids.
 *
 * @module
 */

import {
  type CST,
  type Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Node as YamlNode,
  parseDocument,
  Parser,
  visit,
} from "yaml";
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import schema from "../matrix/schema.json" with { type: "json" };
import type { AxisEffects, AxisValue, Expectation, PhaseTimeouts } from "./types.ts";
import { closestMatch, didYouMean, MatrixError, throwMatrixErrors } from "./matrix_error.ts";
import { DEFAULT_TIMEOUTS, expandMatrix, formatAxisValue } from "./plan.ts";

/** Matrix files larger than this (in UTF-8 bytes) are refused. */
export const MAX_MATRIX_BYTES = 1024 * 1024;

/**
 * Deepest nesting of maps and lists a matrix file may have (a valid one needs 5). Checked before
 * the YAML is composed, whose recursion a deeper file could exhaust.
 */
export const MAX_MATRIX_NESTING = 32;

/** How many times YAML aliases may be expanded in all (against "billion laughs" files). */
export const MAX_ALIAS_COUNT = 1000;

/** Axes with built-in meaning and values; any other axis is a user axis. */
export const BUILTIN_AXES = [
  "kernel",
  "testdevice",
  "l1_smp",
  "l2_smp",
  "guest",
  "debug",
  "l2_cpu",
] as const;

/** Name of a built-in axis. */
export type BuiltinAxis = typeof BUILTIN_AXES[number];

/** Top-level keys of a matrix file. */
export const TOP_LEVEL_KEYS = [
  "name",
  "description",
  "axes",
  "axis_options",
  "exclude",
  "include",
  "expect",
  "timeouts",
  "timeouts_for",
] as const;

/** 1-based position of a node in a matrix file. */
export interface SourcePos {
  line: number;
  column: number;
}

/** One axis as written under `axes`, values normalised (see {@linkcode normalizeAxisValue}). */
export interface AxisSpec {
  name: string;
  values: AxisValue[];
  builtin: boolean;
  /** Position of the axis name. */
  pos: SourcePos;
}

/** An include or exclude entry: axis name to normalised value, in file order. */
export interface MatrixEntry {
  values: Record<string, AxisValue>;
  /** Position of the entry (its first key). */
  pos: SourcePos;
}

/** An `expect` rule. */
export interface ExpectRule {
  /** Axis values a cell must all have ({} matches every cell). */
  when: Record<string, AxisValue>;
  support?: Expectation["support"];
  outcome?: Expectation["outcome"];
  reason?: string;
  pos: SourcePos;
}

/** A `timeouts_for` rule. */
export interface TimeoutRule {
  when: Record<string, AxisValue>;
  timeouts: Partial<PhaseTimeouts>;
  pos: SourcePos;
}

/** A validated matrix file. */
export interface MatrixSpec {
  /** Path of the file, as given to {@linkcode parseMatrix}; used in error messages. */
  file: string;
  name: string;
  description?: string;
  /** The axes written under `axes`, in file order (the "original" axes of GitHub semantics). */
  axes: AxisSpec[];
  /** User axis -> value (as a string) -> effects, every effect list present. */
  axisOptions: Record<string, Record<string, AxisEffects>>;
  exclude: MatrixEntry[];
  include: MatrixEntry[];
  expect: ExpectRule[];
  /** Matrix-wide timeouts, defaults filled in. */
  timeouts: PhaseTimeouts;
  timeoutsFor: TimeoutRule[];
  /** Positions of the `axes` key and, if present, of the `exclude` and `include` keys. */
  positions: { axes: SourcePos; exclude?: SourcePos; include?: SourcePos };
}

/**
 * The value an axis value is compared and stored as: `testdevice` on/off/true/false become
 * booleans, user axis values become strings, other values are kept.
 */
export function normalizeAxisValue(axis: string, value: AxisValue): AxisValue {
  if (axis === "testdevice") return value === true || value === "on";
  if (isBuiltinAxis(axis)) return value;
  return String(value);
}

/** Whether `axis` is one of {@linkcode BUILTIN_AXES}. */
export function isBuiltinAxis(axis: string): axis is BuiltinAxis {
  return (BUILTIN_AXES as readonly string[]).includes(axis);
}

/**
 * Parses and validates the matrix file `text`; `file` is only used in error messages.
 *
 * @throws {MatrixError} for the first problem, or a {@linkcode MatrixErrors} (a subclass)
 * listing every problem found in the failing phase.
 *
 * @example
 * ```ts
 * const spec = parseMatrix(await Deno.readTextFile("matrix/smoke.yaml"), "matrix/smoke.yaml");
 * ```
 */
export function parseMatrix(text: string, file: string): MatrixSpec {
  checkSize(text, file);
  checkCharacters(text, file);
  checkNesting(text, file);
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter,
    prettyErrors: false,
    uniqueKeys: false,
    version: "1.2",
  });
  const source = new Source(file, doc, lineCounter);

  throwMatrixErrors(doc.errors.map((error) => {
    const { line, column } = source.offsetPos(error.pos[0]);
    return new MatrixError({ file, line, column, problem: yamlProblem(error.message) });
  }));
  if (doc.contents === null) {
    throw new MatrixError({ file, line: 1, column: 1, problem: "Matrix file is empty" });
  }
  throwMatrixErrors(findDuplicateKeys(source));

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (/alias/i.test(message)) {
      let first: unknown;
      visit(doc, {
        Alias(_, node) {
          first = node;
          return visit.BREAK;
        },
      });
      throw source.error(
        source.nodePos(first),
        `YAML aliases expand too far (over ${MAX_ALIAS_COUNT} copies)`,
        "write the values out instead of nesting aliases",
      );
    }
    throw new MatrixError({
      file,
      line: 1,
      column: 1,
      problem: `Cannot read the YAML: ${message}`,
    });
  }

  const validate = compiledSchema();
  if (!validate(data)) {
    throwMatrixErrors(schemaErrors(validate.errors ?? [], data, source));
  }
  const spec = buildSpec(data as RawMatrix, source);
  expandMatrix(spec);
  return spec;
}

// ---------------------------------------------------------------------------------------------
// Phase 1: size, YAML, duplicate keys

function checkSize(text: string, file: string): void {
  if (utf8Length(text, MAX_MATRIX_BYTES) > MAX_MATRIX_BYTES) throw tooLarge(file);
}

function tooLarge(file: string): MatrixError {
  return new MatrixError({
    file,
    line: 1,
    column: 1,
    problem: "Matrix file is too large (over 1 MiB)",
    hint: "split it into several matrix files",
  });
}

/**
 * The text of a matrix file read as bytes: refuses files over {@linkcode MAX_MATRIX_BYTES} before
 * decoding them, and bytes that are not UTF-8 (a lenient decoder would turn them into U+FFFD and
 * let them through), at the position of the first bad byte.
 */
export function decodeMatrix(bytes: Uint8Array, file: string): string {
  if (bytes.length > MAX_MATRIX_BYTES) throw tooLarge(file);
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    // The longest prefix that is valid UTF-8 (an unfinished last character allowed) ends at the
    // first bad byte; validity of prefixes is monotonic, so search for it.
    let lo = 0;
    let hi = bytes.length;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      try {
        new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(0, mid), { stream: true });
        lo = mid;
      } catch {
        hi = mid - 1;
      }
    }
    // A streaming decoder holds back an unfinished character: `before` ends where the bad
    // character starts, even when its first bytes looked right.
    const before = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true })
      .decode(bytes.subarray(0, lo), { stream: true });
    const bad = bytes[new TextEncoder().encode(before).length];
    const text = before.replace(/^\uFEFF/, "");
    const { line, column } = positionOf(text, text.length);
    const hex = bad.toString(16).toUpperCase().padStart(2, "0");
    throw new MatrixError({
      file,
      line,
      column,
      problem: `Matrix file is not valid UTF-8 (byte 0x${hex})`,
      hint: "save it as UTF-8",
    });
  }
}

/** 1-based line and column (in UTF-16 units, as the YAML parser counts) of `offset` in `text`. */
function positionOf(text: string, offset: number): SourcePos {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf("\n"); i >= 0 && i < offset; i = text.indexOf("\n", i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: offset - lineStart + 1 };
}

/**
 * YAML streams may hold only printable characters, tabs and line breaks: a control character
 * (a stray NUL, an ESC pasted from a terminal) is refused where it is.
 */
function checkCharacters(text: string, file: string): void {
  // deno-lint-ignore no-control-regex -- finding control characters is the point
  const bad = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/.exec(text);
  if (bad === null) return;
  const code = bad[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, "0");
  throw new MatrixError({
    file,
    ...positionOf(text, bad.index),
    problem: `Control character U+${code} in the matrix file`,
    hint: 'YAML allows only printable characters, tabs and line breaks; write "\\x' +
      code.slice(2) + '" in a double-quoted string if it is meant',
  });
}

/**
 * Refuses maps and lists nested deeper than {@linkcode MAX_MATRIX_NESTING}, at the first one too
 * deep. Walks the parser's tokens with a stack of its own, since the YAML library's composer
 * recurses once per level and would overflow on a deep enough file.
 */
function checkNesting(text: string, file: string): void {
  const stack: { token: CST.Token; depth: number }[] = [];
  for (const token of new Parser().parse(text)) {
    stack.push({ token, depth: 0 });
    while (stack.length > 0) {
      const { token: t, depth } = stack.pop()!;
      if (t.type === "document") {
        if (t.value) stack.push({ token: t.value, depth });
      } else if (t.type === "block-map" || t.type === "block-seq" || t.type === "flow-collection") {
        if (depth >= MAX_MATRIX_NESTING) {
          throw new MatrixError({
            file,
            ...positionOf(text, t.offset),
            problem: `Matrix file nests maps and lists more than ${MAX_MATRIX_NESTING} deep`,
          });
        }
        for (const item of t.items) {
          if ("key" in item && item.key) stack.push({ token: item.key, depth: depth + 1 });
          if (item.value) stack.push({ token: item.value, depth: depth + 1 });
        }
      }
    }
  }
}

/** UTF-8 length of `text`, counting no further than just past `limit`. */
function utf8Length(text: string, limit: number): number {
  if (text.length > limit) return text.length;
  let bytes = 0;
  for (let i = 0; i < text.length && bytes <= limit; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

function yamlProblem(message: string): string {
  const text = message.replace(/ at line \d+, column \d+[\s\S]*$/, "").trim().replace(/\.$/, "");
  return `YAML syntax error: ${text}`;
}

function findDuplicateKeys(source: Source): MatrixError[] {
  const errors: MatrixError[] = [];
  const visit = (node: unknown): void => {
    if (isMap(node)) {
      const seen = new Map<string, SourcePos>();
      for (const pair of node.items) {
        const key = pair.key;
        if (!isScalar(key) || typeof key.value === "object") {
          errors.push(
            source.error(source.nodePos(key), "Map keys must be plain values such as names"),
          );
        } else {
          const name = String(key.value);
          const first = seen.get(name);
          const pos = source.nodePos(key);
          if (first === undefined) {
            seen.set(name, pos);
          } else {
            errors.push(
              source.error(pos, `Duplicate key "${name}"`, `first given at line ${first.line}`),
            );
          }
        }
        visit(pair.value);
      }
    } else if (isSeq(node)) {
      for (const item of node.items) visit(item);
    }
  };
  visit(source.doc.contents);
  return errors;
}

// ---------------------------------------------------------------------------------------------
// Source positions

type PathSegment = string | number;

/** Maps paths in the data back to node positions. */
class Source {
  constructor(
    readonly file: string,
    readonly doc: Document,
    readonly lineCounter: LineCounter,
  ) {}

  offsetPos(offset: number): SourcePos {
    const { line, col } = this.lineCounter.linePos(offset);
    return { line, column: col };
  }

  nodePos(node: unknown): SourcePos {
    const range = (node as YamlNode | null)?.range;
    return range ? this.offsetPos(range[0]) : { line: 1, column: 1 };
  }

  /** The value at `path`, and the key it hangs from (undefined for the root and list items). */
  private lookup(path: readonly PathSegment[]): { value: unknown; key: unknown } {
    let value: unknown = this.doc.contents;
    let key: unknown = undefined;
    for (const segment of path) {
      if (isAlias(value)) value = value.resolve(this.doc);
      if (isMap(value)) {
        const pair = value.items.findLast((item) =>
          isScalar(item.key) && String(item.key.value) === String(segment)
        );
        if (pair === undefined) return { value, key };
        key = pair.key;
        value = pair.value;
      } else if (isSeq(value)) {
        value = value.items[Number(segment)];
        key = undefined;
      } else {
        break;
      }
    }
    return { value, key };
  }

  /** Position of the value at `path` (of its key when the value is empty, as in `kernel:`). */
  at(path: readonly PathSegment[]): SourcePos {
    const { value, key } = this.lookup(path);
    const empty = isScalar(value) && value.value === null &&
      (!value.range || value.range[0] === value.range[1]);
    if ((value === null || value === undefined || empty) && key !== undefined) {
      return this.nodePos(key);
    }
    if (value === null || value === undefined) return this.nodePos(this.doc.contents);
    return this.nodePos(value);
  }

  /** Position of the key at the end of `path` (of the value for list items and the root). */
  keyAt(path: readonly PathSegment[]): SourcePos {
    const { key } = this.lookup(path);
    return key === undefined ? this.at(path) : this.nodePos(key);
  }

  /** Source text of the scalar at `path`, if it is one. */
  sourceText(path: readonly PathSegment[]): string | undefined {
    const { value } = this.lookup(path);
    return isScalar(value) && typeof value.source === "string" ? value.source : undefined;
  }

  error(pos: SourcePos, problem: string, hint?: string): MatrixError {
    return new MatrixError({ file: this.file, line: pos.line, column: pos.column, problem, hint });
  }
}

// ---------------------------------------------------------------------------------------------
// Phase 2: JSON Schema

let validator: ValidateFunction | undefined;

function compiledSchema(): ValidateFunction {
  validator ??= new Ajv({ allErrors: true, verbose: true, strict: true, allowUnionTypes: true })
    .compile(schema);
  return validator;
}

/** The subset of a JSON Schema node that error messages look at. */
interface SchemaNode {
  type?: string | string[];
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  pattern?: string;
  minLength?: number;
  minItems?: number;
  minProperties?: number;
  properties?: Record<string, unknown>;
}

const PATTERN_NOUNS: Record<string, string> = {
  [schema.definitions.kernel.pattern]: 'a kernel version such as "6.12"',
  [schema.definitions.l2_cpu.pattern]: 'a QEMU CPU model such as "host" or "qemu64"',
  [schema.definitions.axisName.pattern]:
    "a name of lowercase letters, digits and underscores, starting with a letter",
};

function schemaErrors(
  errors: readonly ErrorObject[],
  data: unknown,
  source: Source,
): MatrixError[] {
  const result: MatrixError[] = [];
  for (const error of errors) {
    // propertyNames reports the failing name twice: keep the propertyNames error itself.
    if (error.propertyName !== undefined) continue;
    const path = toPath(error.instancePath, data);
    const translated = translate(error, path, data, source);
    if (translated !== undefined) result.push(translated);
  }
  return result;
}

function translate(
  error: ErrorObject,
  path: PathSegment[],
  data: unknown,
  source: Source,
): MatrixError | undefined {
  const parent = (error.parentSchema ?? {}) as SchemaNode;
  const where = pathText(path);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case "additionalProperties": {
      const key = String(params.additionalProperty);
      return unknownKey(source, [...path, key], Object.keys(parent.properties ?? {}));
    }
    case "required": {
      const missing = String(params.missingProperty);
      const object = valueAt(data, path);
      // A missing key next to a misspelt one is one typo: report the misspelt key.
      if (isRecord(object)) {
        const known = Object.keys(parent.properties ?? {});
        for (const key of Object.keys(object)) {
          if (!known.includes(key) && closestMatch(key, [missing]) === missing) {
            return unknownKey(source, [...path, key], known);
          }
        }
      }
      const problem = path.length === 0
        ? `Missing required key "${missing}"`
        : path.length === 1 && path[0] === "axes"
        ? `Missing required axis "${missing}" under axes`
        : `Missing required key "${missing}" in ${where}`;
      const hint = missing === "kernel"
        ? 'every matrix lists its kernels, e.g. kernel: ["6.1"]'
        : undefined;
      return source.error(source.keyAt(path), problem, hint);
    }
    case "propertyNames": {
      const name = String(params.propertyName);
      return source.error(
        source.keyAt([...path, name]),
        `Invalid name "${name}" in ${where}`,
        "use lowercase letters, digits and underscores, starting with a letter",
      );
    }
    case "type":
    case "enum":
    case "minimum":
    case "maximum":
    case "exclusiveMinimum":
    case "pattern":
    case "minLength":
    case "minItems":
    case "minProperties": {
      const value = error.data;
      return source.error(
        source.at(path),
        `Expected ${expected(parent, path)} for ${where}, found ${describe(value)}`,
        valueHint(parent, path, value, source),
      );
    }
    default:
      return source.error(source.at(path), `Invalid ${where}: ${error.message ?? "bad value"}`);
  }
}

function unknownKey(source: Source, path: PathSegment[], known: readonly string[]): MatrixError {
  const key = String(path[path.length - 1]);
  const parent = path.slice(0, -1);
  const problem = parent.length === 0
    ? `Unknown top-level key "${key}"`
    : parent.length === 1 && parent[0] === "axes"
    ? `Unknown axis "${key}"`
    : `Unknown key "${key}" in ${pathText(parent)}`;
  const hint = didYouMean(key, known) ??
    (known.length > 0 ? `expected one of ${known.join(", ")}` : undefined);
  return source.error(source.keyAt(path), problem, hint);
}

function expected(schemaNode: SchemaNode, path: readonly PathSegment[]): string {
  if (schemaNode.enum !== undefined) return `one of ${orList(schemaNode.enum.map(String))}`;
  const type = schemaNode.type;
  if (type === "integer") {
    return schemaNode.minimum !== undefined && schemaNode.maximum !== undefined
      ? `an integer from ${schemaNode.minimum} to ${schemaNode.maximum}`
      : "an integer";
  }
  if (type === "number") {
    return schemaNode.exclusiveMinimum === 0 ? "a positive number of seconds" : "a number";
  }
  if (type === "string") {
    if (schemaNode.pattern !== undefined) {
      return PATTERN_NOUNS[schemaNode.pattern] ?? `a string matching ${schemaNode.pattern}`;
    }
    return schemaNode.minLength ? "a non-empty string" : "a string";
  }
  if (type === "array") {
    const axisList = path.length === 2 && path[0] === "axes";
    if (schemaNode.minItems) return axisList ? "a non-empty list of values" : "a non-empty list";
    return "a list";
  }
  if (type === "object") return schemaNode.minProperties ? "a non-empty map" : "a map";
  if (Array.isArray(type)) {
    const nouns = type.map((t) =>
      t === "object"
        ? "a map"
        : t === "null"
        ? "nothing"
        : t === "integer"
        ? "an integer"
        : `a ${t}`
    );
    return orList(nouns);
  }
  return "a valid value";
}

function valueHint(
  schemaNode: SchemaNode,
  path: readonly PathSegment[],
  value: unknown,
  source: Source,
): string | undefined {
  const field = lastName(path);
  if (field === "kernel" && typeof value === "number") {
    const written = source.sourceText(path) ?? String(value);
    return written === String(value)
      ? `write "${written}" in quotes: YAML reads ${written} as a number`
      : `write "${written}" in quotes: YAML reads ${written} as the number ${value}`;
  }
  if (typeof value === "string" && schemaNode.enum !== undefined) {
    const hint = didYouMean(value, schemaNode.enum.map(String));
    if (hint !== undefined) return hint;
  }
  if (field === "testdevice" && typeof value === "string") return "use on/off or true/false";
  if (
    Array.isArray(value) && path.length === 3 && ["include", "exclude"].includes(String(path[0]))
  ) {
    return `${path[0]} entries give one value per axis, not a list`;
  }
  if (schemaNode.type === "array" && path.length === 2 && path[0] === "axes") {
    if (Array.isArray(value) || value === null) {
      return path[1] === "kernel" || !isBuiltinAxis(String(path[1]))
        ? "give at least one value"
        : "give at least one value, or remove the axis to use its default";
    }
    return `write a list, e.g. ${path[1]}: [${source.sourceText(path)}]`;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Phase 3: cross-references

interface RawEffects {
  l1_config?: string[];
  l2_config?: string[];
  l1_qemu?: string[];
  l2_qemu?: string[];
  l1_append?: string[];
  l2_append?: string[];
}

interface RawRule {
  when: Record<string, AxisValue>;
}

interface RawExpect extends RawRule {
  support?: Expectation["support"];
  outcome?: Expectation["outcome"];
  reason?: string;
}

interface RawTimeoutRule extends RawRule, Partial<PhaseTimeouts> {}

/** The shape of a matrix file once it passed the schema. */
interface RawMatrix {
  name: string;
  description?: string;
  axes: Record<string, AxisValue[]>;
  axis_options?: Record<string, Record<string, RawEffects | null>>;
  exclude?: Record<string, AxisValue>[];
  include?: Record<string, AxisValue>[];
  expect?: RawExpect[];
  timeouts?: Partial<PhaseTimeouts>;
  timeouts_for?: RawTimeoutRule[];
}

const EFFECT_KEYS = [
  "l1_config",
  "l2_config",
  "l1_qemu",
  "l2_qemu",
  "l1_append",
  "l2_append",
] as const;
const TIMEOUT_KEYS = ["build", "l1_boot", "l2_boot", "clients"] as const;

function buildSpec(raw: RawMatrix, source: Source): MatrixSpec {
  const errors: MatrixError[] = [];
  const fail = (pos: SourcePos, problem: string, hint?: string) =>
    errors.push(source.error(pos, problem, hint));

  // axis_options
  const axisOptions: Record<string, Record<string, AxisEffects>> = {};
  for (const [axis, values] of Object.entries(raw.axis_options ?? {})) {
    if (isBuiltinAxis(axis)) {
      fail(
        source.keyAt(["axis_options", axis]),
        `Axis ${axis} is built in and cannot have axis_options`,
        "axis_options defines the values of user axes",
      );
      continue;
    }
    axisOptions[axis] = {};
    for (const [value, effects] of Object.entries(values)) {
      const full: AxisEffects = {
        l1_config: [],
        l2_config: [],
        l1_qemu: [],
        l2_qemu: [],
        l1_append: [],
        l2_append: [],
      };
      for (const key of EFFECT_KEYS) {
        const list = effects?.[key] ?? [];
        full[key] = [...list];
        if (key.endsWith("_config")) {
          list.forEach((path, index) => {
            const problem = configPathProblem(path);
            if (problem !== undefined) {
              fail(source.at(["axis_options", axis, value, key, index]), problem);
            }
          });
        }
      }
      axisOptions[axis][value] = full;
    }
  }

  const knownAxes = [...BUILTIN_AXES, ...Object.keys(axisOptions)];
  const checkAxisName = (axis: string, path: PathSegment[]): boolean => {
    if (isBuiltinAxis(axis) || Object.hasOwn(axisOptions, axis)) return true;
    fail(
      source.keyAt(path),
      `Unknown axis "${axis}"`,
      didYouMean(axis, knownAxes) ?? `define the values of a user axis under axis_options.${axis}`,
    );
    return false;
  };
  const checkUserValue = (axis: string, value: AxisValue, path: PathSegment[]): void => {
    if (isBuiltinAxis(axis) || Object.hasOwn(axisOptions[axis], String(value))) return;
    const defined = Object.keys(axisOptions[axis]);
    fail(
      source.at(path),
      `Value "${value}" of axis ${axis} is not defined under axis_options.${axis}`,
      didYouMean(String(value), defined) ?? `defined values: ${defined.join(", ")}`,
    );
  };
  const entryValues = (
    entry: Record<string, AxisValue>,
    path: PathSegment[],
  ): Record<string, AxisValue> => {
    const values: Record<string, AxisValue> = {};
    for (const [axis, value] of Object.entries(entry)) {
      if (!checkAxisName(axis, [...path, axis])) continue;
      checkUserValue(axis, value, [...path, axis]);
      values[axis] = normalizeAxisValue(axis, value);
    }
    return values;
  };

  // axes
  const axes: AxisSpec[] = [];
  for (const [axis, list] of Object.entries(raw.axes)) {
    if (!checkAxisName(axis, ["axes", axis])) continue;
    const values: AxisValue[] = [];
    list.forEach((value, index) => {
      checkUserValue(axis, value, ["axes", axis, index]);
      const normalized = normalizeAxisValue(axis, value);
      if (values.includes(normalized)) {
        fail(
          source.at(["axes", axis, index]),
          `Duplicate value ${JSON.stringify(value)} in axis ${axis}`,
        );
      }
      values.push(normalized);
    });
    axes.push({
      name: axis,
      values,
      builtin: isBuiltinAxis(axis),
      pos: source.keyAt(["axes", axis]),
    });
  }

  // exclude: only axes listed under axes, only values they take
  const exclude: MatrixEntry[] = (raw.exclude ?? []).map((entry, index) => {
    const values: Record<string, AxisValue> = {};
    for (const [axis, value] of Object.entries(entry)) {
      const path: PathSegment[] = ["exclude", index, axis];
      const spec = axes.find((a) => a.name === axis);
      if (spec === undefined) {
        if (checkAxisName(axis, path)) {
          fail(
            source.keyAt(path),
            `Exclude names axis ${axis}, which is not listed under axes`,
            "an exclude can only match axes listed under axes",
          );
        }
        continue;
      }
      const normalized = normalizeAxisValue(axis, value);
      if (!spec.values.includes(normalized)) {
        const listed = spec.values.map((v) => formatAxisValue(axis, v));
        fail(
          source.at(path),
          `Exclude value ${
            JSON.stringify(value)
          } is not a value of axis ${axis}, so it matches nothing`,
          didYouMean(String(value), listed) ?? `values of ${axis}: ${listed.join(", ")}`,
        );
      }
      values[axis] = normalized;
    }
    return { values, pos: source.at(["exclude", index]) };
  });

  const include: MatrixEntry[] = (raw.include ?? []).map((entry, index) => ({
    values: entryValues(entry, ["include", index]),
    pos: source.at(["include", index]),
  }));

  const expect: ExpectRule[] = (raw.expect ?? []).map((rule, index) => {
    const path: PathSegment[] = ["expect", index];
    if (rule.support === undefined && rule.outcome === undefined) {
      fail(source.at(path), "Expect rule sets neither support nor outcome");
    }
    const result: ExpectRule = {
      when: entryValues(rule.when, [...path, "when"]),
      pos: source.at(path),
    };
    if (rule.support !== undefined) result.support = rule.support;
    if (rule.outcome !== undefined) result.outcome = rule.outcome;
    if (rule.reason !== undefined) result.reason = rule.reason;
    return result;
  });

  const timeoutsFor: TimeoutRule[] = (raw.timeouts_for ?? []).map((rule, index) => {
    const path: PathSegment[] = ["timeouts_for", index];
    const timeouts: Partial<PhaseTimeouts> = {};
    for (const key of TIMEOUT_KEYS) {
      if (rule[key] !== undefined) timeouts[key] = rule[key];
    }
    if (Object.keys(timeouts).length === 0) {
      fail(
        source.at(path),
        "Rule in timeouts_for sets no timeout",
        `set one of ${TIMEOUT_KEYS.join(", ")}`,
      );
    }
    return { when: entryValues(rule.when, [...path, "when"]), timeouts, pos: source.at(path) };
  });

  throwMatrixErrors(errors);

  const spec: MatrixSpec = {
    file: source.file,
    name: raw.name,
    axes,
    axisOptions,
    exclude,
    include,
    expect,
    timeouts: { ...DEFAULT_TIMEOUTS, ...raw.timeouts },
    timeoutsFor,
    positions: { axes: source.keyAt(["axes"]) },
  };
  if (raw.description !== undefined) spec.description = raw.description;
  if (raw.exclude !== undefined) spec.positions.exclude = source.keyAt(["exclude"]);
  if (raw.include !== undefined) spec.positions.include = source.keyAt(["include"]);
  return spec;
}

function configPathProblem(path: string): string | undefined {
  if (path.startsWith("/")) {
    return `Config path "${path}" must be relative to the repository root`;
  }
  if (path.split("/").includes("..")) {
    return `Config path "${path}" must stay inside the repository (no "..")`;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Helpers

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Turns an ajv instancePath (a JSON pointer) into segments, numbers for list indexes. */
function toPath(pointer: string, data: unknown): PathSegment[] {
  if (pointer === "") return [];
  const path: PathSegment[] = [];
  let current: unknown = data;
  for (const raw of pointer.slice(1).split("/")) {
    const segment = raw.replaceAll("~1", "/").replaceAll("~0", "~");
    if (Array.isArray(current)) {
      path.push(Number(segment));
      current = current[Number(segment)];
    } else {
      path.push(segment);
      current = isRecord(current) ? current[segment] : undefined;
    }
  }
  return path;
}

function valueAt(data: unknown, path: readonly PathSegment[]): unknown {
  let current = data;
  for (const segment of path) {
    if (Array.isArray(current)) current = current[Number(segment)];
    else if (isRecord(current)) current = current[String(segment)];
    else return undefined;
  }
  return current;
}

/** `axes.l1_smp[1]`, `include[0].kernel`, or "the top level". */
function pathText(path: readonly PathSegment[]): string {
  if (path.length === 0) return "the top level";
  let text = "";
  for (const segment of path) {
    if (typeof segment === "number") text += `[${segment}]`;
    else if (/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(segment)) text += text ? `.${segment}` : segment;
    else text += `[${JSON.stringify(segment)}]`;
  }
  return text;
}

function lastName(path: readonly PathSegment[]): string | undefined {
  for (let i = path.length - 1; i >= 0; i--) {
    if (typeof path[i] === "string") return String(path[i]);
  }
  return undefined;
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return "nothing";
  if (typeof value === "string") {
    return JSON.stringify(value.length > 40 ? `${value.slice(0, 37)}...` : value);
  }
  if (Array.isArray(value)) return value.length === 0 ? "an empty list" : "a list";
  if (typeof value === "object") return Object.keys(value).length === 0 ? "an empty map" : "a map";
  return String(value);
}

function orList(items: readonly string[]): string {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} or ${items[items.length - 1]}`;
}
