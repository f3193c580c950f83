/**
 * JUnit XML for CI: one <testsuite> per cell, holding one <testcase> for the cell itself (its
 * outcome and reason) and one per KTAP test.
 *
 * Mapping of cell outcomes: pass -> passed; skip and xfail -> <skipped>; fail, xpass, timeout
 * and crash -> <failure type="..."> (crash traces in the body); error and build-error ->
 * <error type="...">. KTAP tests: "not ok" -> <failure> (or <skipped> inside an xfail cell,
 * where it was expected), skip and todo -> <skipped>.
 *
 * @module
 */

import { cellSeconds } from "./summary.ts";
import type { CellResult, TestResult } from "./types.ts";

/** Options of {@linkcode toJunitXml}. */
export interface JunitOptions {
  /** Name of the <testsuites> element (default "vtcio"). */
  name?: string;
}

// XML 1.0 allows only tab, newline and carriage return below U+0020, no U+FFFE/U+FFFF and no
// unpaired surrogates: those are written as visible escapes instead.
const INVALID_XML =
  // deno-lint-ignore no-control-regex
  /[\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function visibleEscape(char: string): string {
  const code = char.charCodeAt(0);
  return code < 0x100
    ? `\\x${code.toString(16).padStart(2, "0")}`
    : `\\u${code.toString(16).padStart(4, "0")}`;
}

/** Escapes text for an XML element body. */
export function escapeXmlText(text: string): string {
  return text
    .replace(INVALID_XML, visibleEscape)
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;");
}

/** Escapes text for a double-quoted XML attribute, keeping line breaks and tabs. */
export function escapeXmlAttribute(text: string): string {
  return escapeXmlText(text)
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;")
    .replace(/\n/g, "&#10;")
    .replace(/\r/g, "&#13;")
    .replace(/\t/g, "&#9;");
}

interface Case {
  classname: string;
  name: string;
  time?: number;
  result?: {
    element: "failure" | "error" | "skipped";
    type?: string;
    message: string;
    body?: string;
  };
  systemOut?: string;
}

interface Counts {
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
  time: number;
}

/** Renders cell results as a JUnit XML document. */
export function toJunitXml(results: CellResult[], options: JunitOptions = {}): string {
  const total: Counts = { tests: 0, failures: 0, errors: 0, skipped: 0, time: 0 };
  const suites: string[] = [];
  for (const result of results) {
    const cases = [cellCase(result), ...result.tests.map((t) => testCase(result, t))];
    const counts = countCases(cases, cellSeconds(result));
    for (const key of Object.keys(total) as (keyof Counts)[]) total[key] += counts[key];
    suites.push(renderSuite(result, cases, counts));
  }
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<testsuites${attrs({ name: options.name ?? "vtcio", ...countAttrs(total) })}>`,
    ...suites,
    `</testsuites>`,
    ``,
  ].join("\n");
}

function cellCase(result: CellResult): Case {
  const kase: Case = { classname: result.id, name: result.id, time: cellSeconds(result) };
  const reason = result.reason;
  const phase = result.phase === undefined ? "" : ` (phase ${result.phase})`;
  switch (result.outcome) {
    case "pass":
      break;
    case "skip":
      kase.result = { element: "skipped", message: reason };
      break;
    case "xfail":
      kase.result = { element: "skipped", message: `Expected failure: ${reason}` };
      break;
    case "fail":
    case "xpass":
    case "timeout":
    case "crash": {
      const body = [`${reason}${phase}`, ...(result.crash ?? [])].join("\n");
      kase.result = { element: "failure", type: result.outcome, message: reason, body };
      break;
    }
    case "error":
    case "build-error":
      kase.result = {
        element: "error",
        type: result.outcome,
        message: reason,
        body: `${reason}${phase}`,
      };
      break;
  }
  const out: string[] = [];
  if (result.attempts > 1) {
    out.push(`Attempts: ${result.attempts}${result.flaky ? " (flaky)" : ""}`);
  }
  for (const [name, path] of Object.entries(result.logs)) out.push(`Log ${name}: ${path}`);
  if (out.length > 0) kase.systemOut = out.join("\n");
  return kase;
}

function testCase(cell: CellResult, test: TestResult): Case {
  const kase: Case = { classname: `${cell.id}.${test.suite}`, name: test.name };
  const diagnostics = test.diagnostics.join("\n");
  const directive = test.directive ?? "";
  switch (test.status) {
    case "ok":
      if (diagnostics !== "") kase.systemOut = diagnostics;
      break;
    case "not ok":
      kase.result = cell.outcome === "xfail"
        ? { element: "skipped", message: `Expected failure: not ok ${test.number} ${test.name}` }
        : {
          element: "failure",
          type: "not ok",
          message: `not ok ${test.number} ${test.name}${directive === "" ? "" : ` # ${directive}`}`,
          body: diagnostics === "" ? undefined : diagnostics,
        };
      break;
    case "skip":
    case "todo":
      kase.result = {
        element: "skipped",
        message: directive !== "" ? directive : test.status.toUpperCase(),
      };
      if (diagnostics !== "") kase.systemOut = diagnostics;
      break;
  }
  return kase;
}

function countCases(cases: Case[], time: number): Counts {
  return {
    tests: cases.length,
    failures: cases.filter((c) => c.result?.element === "failure").length,
    errors: cases.filter((c) => c.result?.element === "error").length,
    skipped: cases.filter((c) => c.result?.element === "skipped").length,
    time,
  };
}

function countAttrs(counts: Counts): Record<string, string> {
  return {
    tests: String(counts.tests),
    failures: String(counts.failures),
    errors: String(counts.errors),
    skipped: String(counts.skipped),
    time: seconds(counts.time),
  };
}

function renderSuite(result: CellResult, cases: Case[], counts: Counts): string {
  const lines = [
    `  <testsuite${attrs({ name: result.id, ...countAttrs(counts), timestamp: result.started })}>`,
  ];
  const properties: Array<[string, string]> = [
    ["outcome", result.outcome],
    ["reason", result.reason],
    ...(result.phase === undefined ? [] : [["phase", result.phase] as [string, string]]),
    ["attempts", String(result.attempts)],
    ["flaky", String(result.flaky)],
    ...Object.entries(result.facts).map(([k, v]) => [`fact.${k}`, v] as [string, string]),
    ...Object.entries(result.timings).map(([k, v]) =>
      [`time.${k}`, seconds(v ?? 0)] as [
        string,
        string,
      ]
    ),
  ];
  lines.push(`    <properties>`);
  for (const [name, value] of properties) {
    lines.push(`      <property${attrs({ name, value })}/>`);
  }
  lines.push(`    </properties>`);
  for (const kase of cases) lines.push(...renderCase(kase));
  lines.push(`  </testsuite>`);
  return lines.join("\n");
}

function renderCase(kase: Case): string[] {
  const open = `    <testcase${
    attrs({
      classname: kase.classname,
      name: kase.name,
      ...(kase.time === undefined ? {} : { time: seconds(kase.time) }),
    })
  }`;
  if (kase.result === undefined && kase.systemOut === undefined) return [`${open}/>`];
  const lines = [`${open}>`];
  const r = kase.result;
  if (r !== undefined) {
    const head = `      <${r.element}${
      attrs({ ...(r.type === undefined ? {} : { type: r.type }), message: r.message })
    }`;
    lines.push(
      r.body === undefined ? `${head}/>` : `${head}>${escapeXmlText(r.body)}</${r.element}>`,
    );
  }
  if (kase.systemOut !== undefined) {
    lines.push(`      <system-out>${escapeXmlText(kase.systemOut)}</system-out>`);
  }
  lines.push(`    </testcase>`);
  return lines;
}

function attrs(values: Record<string, string>): string {
  return Object.entries(values).map(([k, v]) => ` ${k}="${escapeXmlAttribute(v)}"`).join("");
}

function seconds(value: number): string {
  return value.toFixed(3);
}
