import assert from "node:assert/strict";
import { escapeXmlAttribute, escapeXmlText, toJunitXml } from "./junit.ts";
import type { CellResult, Outcome, TestResult } from "./types.ts";

/** A parsed element of the small XML subset the JUnit writer produces. */
interface Node {
  name: string;
  attrs: Record<string, string>;
  children: Node[];
  text: string;
}

const ENTITIES: Record<string, string> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
};

function decode(text: string): string {
  return text.replace(/&(#\d+|[a-z]+);/g, (_, e: string) => {
    if (e.startsWith("#")) return String.fromCharCode(Number(e.slice(1)));
    const value = ENTITIES[e];
    if (value === undefined) throw new Error(`Unknown entity &${e};`);
    return value;
  });
}

/** A strict little parser: throws on anything that is not well-formed XML. */
function parseXml(xml: string): Node {
  // deno-lint-ignore no-control-regex
  assert.doesNotMatch(xml, /[\x00-\x08\x0B\x0C\x0E-\x1F]/, "No invalid control characters");
  const body = xml.replace(/^<\?xml[^?]*\?>\s*/, "");
  const token = /<(\/?)([\w-]+)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|([^<]+)/gy;
  const root: Node = { name: "#root", attrs: {}, children: [], text: "" };
  const stack = [root];
  let match: RegExpExecArray | null;
  let consumed = 0;
  while ((match = token.exec(body)) !== null) {
    consumed = token.lastIndex;
    const [, closing, name, rawAttrs, selfClosing, text] = match;
    const top = stack[stack.length - 1];
    if (text !== undefined) {
      assert.doesNotMatch(text, /&(?!(#\d+|amp|lt|gt|quot|apos);)/, "Bare & in text");
      top.text += decode(text);
      continue;
    }
    if (closing === "/") {
      assert.equal(top.name, name, `Closing </${name}> matches <${top.name}>`);
      stack.pop();
      continue;
    }
    const attrs: Record<string, string> = {};
    for (const a of rawAttrs.matchAll(/([\w:-]+)="([^"]*)"/g)) {
      assert.doesNotMatch(a[2], /&(?!(#\d+|amp|lt|gt|quot|apos);)/, "Bare & in attribute");
      attrs[a[1]] = decode(a[2]);
    }
    const node: Node = { name, attrs, children: [], text: "" };
    top.children.push(node);
    if (selfClosing !== "/") stack.push(node);
  }
  assert.equal(consumed, body.length, "The whole document was read");
  assert.equal(stack.length, 1, "Every element was closed");
  assert.equal(root.children.length, 1);
  return root.children[0];
}

function children(node: Node, name: string): Node[] {
  return node.children.filter((c) => c.name === name);
}

function test(name: string, status: TestResult["status"], extra: Partial<TestResult> = {}) {
  return { name, status, number: 1, diagnostics: [], suite: "l2", ...extra };
}

function result(id: string, outcome: Outcome, over: Partial<CellResult> = {}): CellResult {
  return {
    id,
    outcome,
    reason: `${outcome} reason`,
    tests: [],
    timings: { build: 100, l1_boot: 20.5 },
    logs: { l1: "cells/x/l1.log" },
    attempts: 1,
    flaky: false,
    facts: { support: "supported" },
    started: "2026-11-25T03:15:00.000Z",
    finished: "2026-11-25T03:17:00.000Z",
    ...over,
  };
}

Deno.test("escapeXmlText() escapes markup and makes control characters visible", () => {
  assert.equal(escapeXmlText("a < b && c > d"), "a &lt; b &amp;&amp; c &gt; d");
  assert.equal(escapeXmlText("\x1b[31mred\x1b[0m\x00"), "\\x1b[31mred\\x1b[0m\\x00");
  assert.equal(escapeXmlText("tab\tnl\n"), "tab\tnl\n");
  assert.equal(escapeXmlText("\uFFFE \uD800x \u{1F600}"), "\\ufffe \\ud800x \u{1F600}");
  assert.equal(escapeXmlAttribute(`"q" 'a'\n\t`), "&quot;q&quot; &apos;a&apos;&#10;&#9;");
});

Deno.test("toJunitXml() writes a suite per cell with the cell's own testcase", () => {
  const xml = toJunitXml([
    result("6.1-td-on", "pass", {
      tests: [
        test("probe", "ok"),
        test("roundtrip", "not ok", { number: 2, diagnostics: ["write returned -22"] }),
        test("big", "skip", { number: 3, directive: "SKIP needs 16 KiB pages" }),
        test("later", "todo", { number: 4 }),
      ],
    }),
  ]);
  const root = parseXml(xml);
  assert.equal(root.name, "testsuites");
  assert.deepEqual(
    [root.attrs.tests, root.attrs.failures, root.attrs.errors, root.attrs.skipped],
    ["5", "1", "0", "2"],
  );
  const [suite] = children(root, "testsuite");
  assert.equal(suite.attrs.name, "6.1-td-on");
  assert.equal(suite.attrs.time, "120.500");
  assert.equal(suite.attrs.timestamp, "2026-11-25T03:15:00.000Z");
  const props = Object.fromEntries(
    children(children(suite, "properties")[0], "property").map((
      p,
    ) => [p.attrs.name, p.attrs.value]),
  );
  assert.equal(props.outcome, "pass");
  assert.equal(props["fact.support"], "supported");
  assert.equal(props["time.l1_boot"], "20.500");
  const cases = children(suite, "testcase");
  assert.deepEqual(cases.map((c) => `${c.attrs.classname}/${c.attrs.name}`), [
    "6.1-td-on/6.1-td-on",
    "6.1-td-on.l2/probe",
    "6.1-td-on.l2/roundtrip",
    "6.1-td-on.l2/big",
    "6.1-td-on.l2/later",
  ]);
  assert.equal(cases[0].attrs.time, "120.500");
  assert.equal(children(cases[0], "system-out")[0].text, "Log l1: cells/x/l1.log");
  const failure = children(cases[2], "failure")[0];
  assert.equal(failure.attrs.message, "not ok 2 roundtrip");
  assert.equal(failure.text, "write returned -22");
  assert.equal(children(cases[3], "skipped")[0].attrs.message, "SKIP needs 16 KiB pages");
  assert.equal(children(cases[4], "skipped")[0].attrs.message, "TODO");
});

Deno.test("toJunitXml() maps cell outcomes to failures, errors and skips", () => {
  const outcomes: Outcome[] = [
    "pass",
    "fail",
    "xfail",
    "xpass",
    "error",
    "build-error",
    "timeout",
    "crash",
    "skip",
  ];
  const root = parseXml(toJunitXml(outcomes.map((o) => result(`cell-${o}`, o))));
  const mapped = children(root, "testsuite").map((suite) => {
    const cell = children(suite, "testcase")[0];
    const el = cell.children.find((c) => c.name !== "system-out");
    return [suite.attrs.name, el === undefined ? "passed" : `${el.name}:${el.attrs.type ?? ""}`];
  });
  assert.deepEqual(mapped, [
    ["cell-pass", "passed"],
    ["cell-fail", "failure:fail"],
    ["cell-xfail", "skipped:"],
    ["cell-xpass", "failure:xpass"],
    ["cell-error", "error:error"],
    ["cell-build-error", "error:build-error"],
    ["cell-timeout", "failure:timeout"],
    ["cell-crash", "failure:crash"],
    ["cell-skip", "skipped:"],
  ]);
  assert.deepEqual(
    [root.attrs.tests, root.attrs.failures, root.attrs.errors, root.attrs.skipped],
    ["9", "4", "2", "2"],
  );
});

Deno.test("toJunitXml() puts crash traces in the failure body, escaped", () => {
  const xml = toJunitXml([
    result("c", "crash", {
      reason: 'Kernel panic on the L2 console: Kernel panic - not syncing: <bad> & "worse"',
      phase: "clients",
      crash: ["Kernel panic on the L2 console:", "[ 3.4] Kernel panic - not syncing: \x1b[1m"],
      attempts: 2,
      flaky: true,
    }),
  ]);
  const root = parseXml(xml);
  const cell = children(children(root, "testsuite")[0], "testcase")[0];
  const failure = children(cell, "failure")[0];
  assert.equal(
    failure.attrs.message,
    'Kernel panic on the L2 console: Kernel panic - not syncing: <bad> & "worse"',
  );
  assert.equal(
    failure.text,
    [
      'Kernel panic on the L2 console: Kernel panic - not syncing: <bad> & "worse" (phase clients)',
      "Kernel panic on the L2 console:",
      "[ 3.4] Kernel panic - not syncing: \\x1b[1m",
    ].join("\n"),
  );
  assert.match(children(cell, "system-out")[0].text, /^Attempts: 2 \(flaky\)/);
});

Deno.test("toJunitXml() reports failing tests of an xfail cell as skipped", () => {
  const root = parseXml(
    toJunitXml([result("x", "xfail", { tests: [test("smp_stress", "not ok")] })]),
  );
  assert.equal(root.attrs.failures, "0");
  assert.equal(root.attrs.skipped, "2");
});

Deno.test("toJunitXml() writes an empty document for no cells", () => {
  const root = parseXml(toJunitXml([], { name: "nightly" }));
  assert.equal(root.attrs.name, "nightly");
  assert.equal(root.attrs.tests, "0");
  assert.deepEqual(root.children, []);
});
