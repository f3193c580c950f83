/**
 * A tolerant KTAP parser (Documentation/dev-tools/ktap.rst) for serial console captures.
 *
 * Console lines mix KTAP with kernel messages, so anything that is not KTAP-shaped is ignored,
 * a leading printk timestamp ("[   12.345678] ", optionally followed by a caller id such as
 * "[    T1] ") is removed, and nesting is deduced from indentation relative to the enclosing
 * level (2 or 4 spaces, whatever the producer used).
 *
 * Subtests are flattened: a child "b" of test "a" becomes a TestResult named "a.b", listed
 * right after its parent.
 *
 * @module
 */

import type { TestResult } from "./types.ts";

/** What a console capture said in KTAP. */
export interface KtapReport {
  /** Suite name given by the caller, copied into every TestResult. */
  suite: string;
  /** Number of top-level KTAP documents found (a version line or plan at the outermost level). */
  documents: number;
  /** KTAP/TAP version of the first document, if it had a version line. */
  version?: number;
  /** Every test result, flattened, in document order (parents before their subtests). */
  tests: TestResult[];
  /** Sum of the top-level plans ("1..N"), or null when no top-level plan was seen. */
  planned: number | null;
  /**
   * True when at least one document was found, every document had a plan, every planned test
   * (subtests included) reported a result, no nested block was left open and nobody bailed out.
   */
  complete: boolean;
  /** Top-level test numbers that the plan announced but that never reported. */
  missing: number[];
  /** Every diagnostic line ("# ..."), without the leading "# ", in order, nested ones too. */
  diagnostics: string[];
  /** Key/value pairs from "# vtcio: key=value ..." lines; a later value replaces an earlier. */
  facts: Record<string, string>;
  /** Reason given by a "Bail out!" line, if any. */
  bailOut?: string;
  /** Human-readable account of what made the output incomplete or odd. */
  problems: string[];
}

/** Directives a test result line may carry after " # ". */
export type KtapDirective = "SKIP" | "TODO" | "XFAIL" | "TIMEOUT" | "ERROR";

const TIMESTAMP = /^\[\s*\d+\.\d+\](?:\[\s*[TC]\d+\])? ?/;
const VERSION = /^(K?TAP) version (\d+)\s*$/;
const PLAN = /^1\.\.(\d+)(?:\s*#\s*(.*))?$/;
const RESULT = /^(not ok|ok)(?=\s|$)\s*(\d+)?(?:\s+|$)(.*)$/;
const DIRECTIVE = /^(SKIP|TODO|XFAIL|TIMEOUT|ERROR)\b\s*(.*)$/i;
const BAIL_OUT = /^Bail out!\s*(.*)$/;
const SUBTEST = /^Subtest:\s*(.*)$/;
const FACTS = /^vtcio:\s*(.*)$/;
// deno-lint-ignore no-control-regex
const ANSI_CSI = /\x1b\[[0-9;?]*[A-Za-z]/g;

type LineKind =
  | { kind: "version"; version: number }
  | { kind: "plan"; count: number; directive?: string }
  | { kind: "result"; ok: boolean; number?: number; name: string; directive?: string }
  | { kind: "diagnostic"; text: string }
  | { kind: "bail"; reason: string };

interface Level {
  indent: number;
  plan?: number;
  seen: Set<number>;
  lastNumber: number;
  /** Results of this level, each followed by its own flattened subtests, names relative. */
  results: TestResult[];
  /** Diagnostics waiting for the next result line of this level. */
  pending: string[];
  /** Results of a finished nested block, waiting for this level's next result line. */
  children: TestResult[];
  /** Plan/result problems of a finished nested block, for the parent result to name. */
  childProblems: string[];
  /** This nested block's own name, from a "# Subtest:" line at its start (KUnit style). */
  name?: string;
  /** Name announced by a "# Subtest:" line for the next nested block (TAP14 style). */
  announced?: string;
  /** Name of the finished nested block waiting in `children`. */
  childName?: string;
}

/** Removes carriage returns, ANSI escape sequences and a leading printk timestamp. */
export function stripConsolePrefix(line: string): string {
  const text = line.replace(ANSI_CSI, "").replace(/\r+$/, "").replace(/^\r+/, "");
  return text.replace(TIMESTAMP, "");
}

/**
 * Parses the KTAP found among console lines.
 *
 * @param lines Console lines, in order; non-KTAP lines are ignored.
 * @param suite Name recorded as `suite` in every TestResult (e.g. "l2").
 */
export function parseKtap(lines: string[], suite: string): KtapReport {
  const report: KtapReport = {
    suite,
    documents: 0,
    tests: [],
    planned: null,
    complete: false,
    missing: [],
    diagnostics: [],
    facts: {},
    problems: [],
  };
  let stack: Level[] = [];
  let allComplete = true;

  const newLevel = (indent: number): Level => ({
    indent,
    seen: new Set(),
    lastNumber: 0,
    results: [],
    pending: [],
    children: [],
    childProblems: [],
  });

  const closeDocument = () => {
    if (stack.length === 0) return;
    while (stack.length > 1) popLevel();
    const top = stack[0];
    if (top.pending.length > 0 && top.results.length > 0) {
      top.results[top.results.length - 1].diagnostics.push(...top.pending);
    }
    orphanChildren(top);
    report.tests.push(...top.results);
    if (top.plan === undefined) {
      allComplete = false;
      report.problems.push(
        report.documents > 1
          ? `Document ${report.documents} has no plan`
          : "No plan line (1..N) was found",
      );
    } else {
      report.planned = (report.planned ?? 0) + top.plan;
      const missing = missingNumbers(top);
      if (missing.length > 0) {
        allComplete = false;
        report.missing.push(...missing);
        report.problems.push(
          `Planned ${top.plan} tests, ${missing.length} did not report (${formatNumbers(missing)})`,
        );
      }
    }
    stack = [];
  };

  /** Results of a nested block that no parent result line ever claimed. */
  const orphanChildren = (level: Level) => {
    if (level.children.length === 0) return;
    allComplete = false;
    const name = level.childName ?? level.announced ?? "(unnamed)";
    report.problems.push(`Subtest ${name} ended without a result line`);
    for (const child of level.children) {
      child.name = `${name}.${child.name}`;
      level.results.push(child);
    }
    level.children = [];
  };

  const popLevel = () => {
    const level = stack.pop();
    if (level === undefined) return;
    const parent = stack[stack.length - 1];
    if (level.pending.length > 0) {
      if (level.results.length > 0) {
        level.results[level.results.length - 1].diagnostics.push(...level.pending);
      } else {
        parent.pending.push(...level.pending);
      }
    }
    orphanChildren(level);
    if (level.plan !== undefined) {
      const missing = missingNumbers(level);
      if (missing.length > 0) {
        parent.childProblems.push(
          `planned ${level.plan} subtests, ${missing.length} did not report (${
            formatNumbers(missing)
          })`,
        );
      }
    }
    parent.children.push(...level.results);
    parent.childName = level.name ?? parent.announced;
  };

  for (const raw of lines) {
    const stripped = stripConsolePrefix(raw);
    const content = stripped.trimStart();
    const indent = stripped.length - content.length;
    const parsed = classifyLine(content.trimEnd());
    if (parsed === undefined) continue;

    if (stack.length === 0) {
      // A document starts with a version line or, leniently, with a plan.
      if (parsed.kind !== "version" && parsed.kind !== "plan") continue;
      report.documents++;
      stack.push(newLevel(indent));
      if (parsed.kind === "version") {
        if (report.documents === 1) report.version = parsed.version;
        continue;
      }
    } else if (parsed.kind === "version" && indent <= stack[0].indent) {
      // A new top-level document: close the current one.
      closeDocument();
      report.documents++;
      stack.push(newLevel(indent));
      continue;
    }

    if (indent < stack[0].indent) {
      // Outdented below the document: a stray line, not KTAP of this document.
      continue;
    }
    while (stack.length > 1 && indent < stack[stack.length - 1].indent) popLevel();
    let level = stack[stack.length - 1];
    if (
      parsed.kind === "version" && stack.length > 1 && indent === level.indent &&
      (level.plan !== undefined || level.results.length > 0)
    ) {
      // A sibling nested document whose parent never printed its result line.
      popLevel();
      level = stack[stack.length - 1];
    }
    if (indent > level.indent) {
      level = newLevel(indent);
      stack.push(level);
    }

    switch (parsed.kind) {
      case "version":
        break;
      case "plan":
        if (level.plan !== undefined) {
          report.problems.push(`Second plan line "1..${parsed.count}" ignored`);
        } else {
          level.plan = parsed.count;
        }
        break;
      case "diagnostic": {
        report.diagnostics.push(parsed.text);
        const subtest = SUBTEST.exec(parsed.text);
        if (subtest !== null) {
          const starting = stack.length > 1 && level.plan === undefined &&
            level.results.length === 0;
          if (starting) level.name = subtest[1].trim();
          else level.announced = subtest[1].trim();
          break;
        }
        const facts = FACTS.exec(parsed.text);
        if (facts !== null) Object.assign(report.facts, parseFacts(facts[1]));
        level.pending.push(parsed.text);
        break;
      }
      case "bail":
        report.bailOut = parsed.reason;
        report.problems.push(`Bail out!${parsed.reason === "" ? "" : ` ${parsed.reason}`}`);
        allComplete = false;
        break;
      case "result": {
        const number = parsed.number ?? level.lastNumber + 1;
        if (level.seen.has(number)) {
          report.problems.push(`Test number ${number} reported twice`);
        }
        level.seen.add(number);
        level.lastNumber = number;
        const name = parsed.name !== ""
          ? parsed.name
          : level.childName ?? level.announced ?? String(number);
        const result: TestResult = {
          name,
          status: statusOf(parsed.ok, parsed.directive),
          number,
          diagnostics: level.pending,
          suite,
        };
        if (parsed.directive !== undefined) result.directive = parsed.directive;
        level.pending = [];
        if (level.childProblems.length > 0) {
          allComplete = false;
          report.problems.push(...level.childProblems.map((p) => `Subtest ${name}: ${p}`));
          level.childProblems = [];
        }
        level.results.push(result);
        for (const child of level.children) {
          child.name = `${name}.${child.name}`;
          level.results.push(child);
        }
        level.children = [];
        level.childName = undefined;
        level.announced = undefined;
        break;
      }
    }
  }
  if (stack.length > 1) {
    allComplete = false;
    report.problems.push("The output ended inside a subtest");
  }
  closeDocument();
  report.complete = report.documents > 0 && allComplete;
  return report;
}

/** Parses `key=value key2="value with spaces"` into a map. */
export function parseFacts(text: string): Record<string, string> {
  const facts: Record<string, string> = {};
  const pair = /([A-Za-z_][\w.-]*)=(?:"((?:[^"\\]|\\.)*)"|(\S*))/g;
  for (const match of text.matchAll(pair)) {
    const value = match[2] !== undefined ? match[2].replace(/\\(.)/g, "$1") : match[3];
    facts[match[1]] = value;
  }
  return facts;
}

function classifyLine(content: string): LineKind | undefined {
  if (content === "") return undefined;
  const version = VERSION.exec(content);
  if (version !== null) return { kind: "version", version: Number(version[2]) };
  const plan = PLAN.exec(content);
  if (plan !== null) {
    return { kind: "plan", count: Number(plan[1]), directive: plan[2]?.trim() };
  }
  const result = RESULT.exec(content);
  if (result !== null) {
    const { description, comment } = splitComment(result[3]);
    let directive: string | undefined;
    if (comment !== undefined) {
      const match = DIRECTIVE.exec(comment);
      directive = match === null
        ? undefined
        : [match[1].toUpperCase(), match[2].trim()].filter((s) => s !== "").join(" ");
    }
    return {
      kind: "result",
      ok: result[1] === "ok",
      number: result[2] === undefined ? undefined : Number(result[2]),
      name: description.replace(/^-\s*/, "").replace(/\\#/g, "#").trim(),
      directive,
    };
  }
  // "# text" or a bare "#"; kernel lines such as "#PF: error_code(0x0000)" are not KTAP.
  if (content === "#" || content.startsWith("# ")) {
    return { kind: "diagnostic", text: content.slice(2) };
  }
  const bail = BAIL_OUT.exec(content);
  if (bail !== null) return { kind: "bail", reason: bail[1].trim() };
  return undefined;
}

/** Splits "name # directive" at the first "#" that is not escaped as "\#". */
function splitComment(text: string): { description: string; comment?: string } {
  for (let i = 0; i < text.length; i++) {
    if (text[i] === "\\") {
      i++;
      continue;
    }
    if (text[i] === "#") {
      return { description: text.slice(0, i).trimEnd(), comment: text.slice(i + 1).trim() };
    }
  }
  return { description: text.trimEnd() };
}

function statusOf(ok: boolean, directive: string | undefined): TestResult["status"] {
  const keyword = directive?.split(" ", 1)[0];
  if (keyword === "SKIP") return "skip";
  if (keyword === "TODO") return "todo";
  // kselftest prints "ok N name # XFAIL" for a failure that was expected; a "not ok" XFAIL is
  // still an expected failure, which KTAP treats like TODO.
  if (keyword === "XFAIL") return ok ? "ok" : "todo";
  return ok ? "ok" : "not ok";
}

function missingNumbers(level: Level): number[] {
  const missing: number[] = [];
  for (let n = 1; n <= (level.plan ?? 0); n++) {
    if (!level.seen.has(n)) missing.push(n);
  }
  return missing;
}

function formatNumbers(numbers: number[]): string {
  const shown = numbers.slice(0, 10).join(", ");
  return numbers.length > 10 ? `${shown}, ...` : shown;
}
