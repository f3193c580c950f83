import assert from "node:assert/strict";
import { parseFacts, parseKtap, stripConsolePrefix } from "./ktap.ts";

function names(lines: string[]): string[] {
  return parseKtap(lines, "l2").tests.map((t) => `${t.name}:${t.status}`);
}

Deno.test("parseKtap() reads a flat document with directives", () => {
  const report = parseKtap([
    "KTAP version 1",
    "1..4",
    "ok 1 open_device",
    "not ok 2 write_read_roundtrip",
    "ok 3 big_message # SKIP needs 16 KiB pages",
    "not ok 4 - concurrent_clients # TODO not implemented yet",
  ], "l2");
  assert.deepEqual(report.version, 1);
  assert.deepEqual(report.documents, 1);
  assert.deepEqual(report.planned, 4);
  assert.deepEqual(report.complete, true);
  assert.deepEqual(report.missing, []);
  assert.deepEqual(report.tests, [
    { name: "open_device", status: "ok", number: 1, diagnostics: [], suite: "l2" },
    { name: "write_read_roundtrip", status: "not ok", number: 2, diagnostics: [], suite: "l2" },
    {
      name: "big_message",
      status: "skip",
      number: 3,
      directive: "SKIP needs 16 KiB pages",
      diagnostics: [],
      suite: "l2",
    },
    {
      name: "concurrent_clients",
      status: "todo",
      number: 4,
      directive: "TODO not implemented yet",
      diagnostics: [],
      suite: "l2",
    },
  ]);
});

Deno.test("parseKtap() maps XFAIL, TIMEOUT and lowercase directives", () => {
  const report = parseKtap([
    "KTAP version 1",
    "1..4",
    "ok 1 expected_to_break # XFAIL known host bug",
    "not ok 2 also_expected # XFAIL",
    "not ok 3 slow # TIMEOUT after 30 s",
    "ok 4 lower # skip no device",
  ], "l2");
  assert.deepEqual(report.tests.map((t) => [t.status, t.directive]), [
    ["ok", "XFAIL known host bug"],
    ["todo", "XFAIL"],
    ["not ok", "TIMEOUT after 30 s"],
    ["skip", "SKIP no device"],
  ]);
});

Deno.test("parseKtap() attaches diagnostics to the next result and keeps escaped #", () => {
  const report = parseKtap([
    "KTAP version 1",
    "1..2",
    "# connecting to /dev/tcioDD0",
    "# write returned -22",
    "not ok 1 write_rejects_bad_header",
    "ok 2 name with \\# hash # not a directive",
  ], "l2");
  assert.deepEqual(report.tests[0].diagnostics, [
    "connecting to /dev/tcioDD0",
    "write returned -22",
  ]);
  assert.deepEqual(report.tests[1].name, "name with # hash");
  assert.deepEqual(report.tests[1].directive, undefined);
  assert.deepEqual(report.tests[1].status, "ok");
  assert.deepEqual(report.diagnostics, ["connecting to /dev/tcioDD0", "write returned -22"]);
});

Deno.test("parseKtap() flattens KUnit-style nested suites (4 spaces)", () => {
  const report = parseKtap([
    "KTAP version 1",
    "1..2",
    "    KTAP version 1",
    "    # Subtest: tciodd_hc",
    "    # module: kvm_tciodd_test",
    "    1..2",
    "    ok 1 connect_returns_channel",
    "    # tciodd_hc_read: EXPECTATION FAILED at arch/x86/kvm/tciodd_test.c:88",
    "    not ok 2 read_empty_channel",
    "# tciodd_hc: pass:1 fail:1 skip:0 total:2",
    "not ok 1 tciodd_hc",
    "    KTAP version 1",
    "    # Subtest: tciodd_queue",
    "    1..1",
    "    ok 1 fifo_order",
    "ok 2 tciodd_queue",
  ], "kunit");
  assert.deepEqual(report.complete, true);
  assert.deepEqual(report.tests.map((t) => [t.name, t.status, t.number]), [
    ["tciodd_hc", "not ok", 1],
    ["tciodd_hc.connect_returns_channel", "ok", 1],
    ["tciodd_hc.read_empty_channel", "not ok", 2],
    ["tciodd_queue", "ok", 2],
    ["tciodd_queue.fifo_order", "ok", 1],
  ]);
  assert.deepEqual(report.tests[2].diagnostics, [
    "tciodd_hc_read: EXPECTATION FAILED at arch/x86/kvm/tciodd_test.c:88",
  ]);
  assert.deepEqual(report.tests[0].diagnostics, ["tciodd_hc: pass:1 fail:1 skip:0 total:2"]);
  assert.deepEqual(report.tests.every((t) => t.suite === "kunit"), true);
});

Deno.test("parseKtap() handles 2-space nesting two levels deep", () => {
  assert.deepEqual(
    names([
      "KTAP version 1",
      "1..1",
      "  KTAP version 1",
      "  1..2",
      "    KTAP version 1",
      "    1..1",
      "    ok 1 leaf",
      "  ok 1 inner",
      "  ok 2 sibling",
      "ok 1 outer",
    ]),
    ["outer:ok", "outer.inner:ok", "outer.inner.leaf:ok", "outer.sibling:ok"],
  );
});

Deno.test("parseKtap() names an unnamed parent from a TAP14-style Subtest line", () => {
  assert.deepEqual(
    names([
      "TAP version 14",
      "1..1",
      "# Subtest: hypercalls",
      "    1..1",
      "    ok 1 connect",
      "ok 1",
    ]),
    ["hypercalls:ok", "hypercalls.connect:ok"],
  );
});

Deno.test("parseKtap() survives kernel messages and timestamps interleaved", () => {
  const report = parseKtap([
    "[    0.000000] Linux version 6.1.0 (build@host) #1 SMP PREEMPT_DYNAMIC",
    "[    2.114201] Run /init as init process",
    "KTAP version 1\r",
    "[    3.200017] tciodd: registered /dev/tcioDD0",
    "1..3",
    "# vtcio: support=supported program_hash=9f86d081884c7d65",
    "ok 1 probe",
    "[    3.401222] random: crng init done",
    "[    3.401300] kvm: vcpu0, guest rIP: 0xffffffff8106d0e4 Unhandled WRMSR(0xc0010007) = 0x0",
    "ok 2 handshake",
    "[    3.500000] #PF: supervisor read access in kernel mode",
    "\x1b[0mok 3 teardown",
    "[    4.000000] reboot: Power down",
  ], "l2");
  assert.deepEqual(report.complete, true);
  assert.deepEqual(report.tests.map((t) => t.name), ["probe", "handshake", "teardown"]);
  assert.deepEqual(report.facts, { support: "supported", program_hash: "9f86d081884c7d65" });
  assert.deepEqual(report.diagnostics, ["vtcio: support=supported program_hash=9f86d081884c7d65"]);
});

Deno.test("parseKtap() reads KTAP printed by the kernel with timestamps and caller ids", () => {
  const report = parseKtap([
    "[    1.512345] KTAP version 1",
    "[    1.512350] 1..1",
    "[    1.512400]     KTAP version 1",
    "[    1.512401]     # Subtest: example",
    "[    1.512402]     1..1",
    "[    1.512500][    T1]     ok 1 example_simple_test",
    "[    1.512600] ok 1 example",
  ], "kunit");
  assert.deepEqual(report.complete, true);
  assert.deepEqual(report.tests.map((t) => t.name), ["example", "example.example_simple_test"]);
});

Deno.test("parseKtap() reports missing tests when the console stops early", () => {
  const report = parseKtap([
    "KTAP version 1",
    "1..5",
    "ok 1 a",
    "ok 3 c",
    "[   12.345000] Kernel panic - not syncing: Fatal exception",
  ], "l2");
  assert.deepEqual(report.complete, false);
  assert.deepEqual(report.planned, 5);
  assert.deepEqual(report.missing, [2, 4, 5]);
  assert.deepEqual(report.problems, ["Planned 5 tests, 3 did not report (2, 4, 5)"]);
});

Deno.test("parseKtap() is incomplete when a subtest is cut off", () => {
  const report = parseKtap([
    "KTAP version 1",
    "1..1",
    "    KTAP version 1",
    "    # Subtest: suite",
    "    1..3",
    "    ok 1 first",
  ], "l2");
  assert.deepEqual(report.complete, false);
  assert.deepEqual(report.missing, [1]);
  assert.deepEqual(report.tests.map((t) => t.name), ["suite.first"]);
  assert(report.problems.includes("The output ended inside a subtest"));
});

Deno.test("parseKtap() flags a subtest plan that its parent does not satisfy", () => {
  const report = parseKtap([
    "KTAP version 1",
    "1..1",
    "    1..2",
    "    ok 1 only_one",
    "ok 1 parent",
  ], "l2");
  assert.deepEqual(report.complete, false);
  assert.deepEqual(report.missing, []);
  assert.deepEqual(report.problems, ["Subtest parent: planned 2 subtests, 1 did not report (2)"]);
});

Deno.test("parseKtap() returns an empty, incomplete report without KTAP", () => {
  const report = parseKtap([
    "[    0.000000] Linux version 6.1.0",
    "ok, so this is not KTAP",
    "ok 1 but no header came before",
  ], "l2");
  assert.deepEqual(report.documents, 0);
  assert.deepEqual(report.tests, []);
  assert.deepEqual(report.planned, null);
  assert.deepEqual(report.complete, false);
});

Deno.test("parseKtap() accepts a plan before any version line and a trailing plan", () => {
  const leading = parseKtap(["1..1", "ok 1 x"], "l2");
  assert.deepEqual(leading.complete, true);
  const trailing = parseKtap(["TAP version 13", "ok 1 x", "ok 2 y", "1..2"], "l2");
  assert.deepEqual(trailing.version, 13);
  assert.deepEqual(trailing.complete, true);
});

Deno.test("parseKtap() completes an empty plan with a SKIP directive", () => {
  const report = parseKtap([
    "KTAP version 1",
    "# vtcio: support=unsupported errno=EOPNOTSUPP",
    "1..0 # SKIP tcioDD not present",
  ], "l2");
  assert.deepEqual(report.complete, true);
  assert.deepEqual(report.planned, 0);
  assert.deepEqual(report.facts, { support: "unsupported", errno: "EOPNOTSUPP" });
});

Deno.test("parseKtap() stops at Bail out!", () => {
  const report = parseKtap(["KTAP version 1", "1..2", "ok 1 a", "Bail out! device vanished"], "l2");
  assert.deepEqual(report.bailOut, "device vanished");
  assert.deepEqual(report.complete, false);
  assert.deepEqual(report.missing, [2]);
});

Deno.test("parseKtap() numbers results that omit their number", () => {
  const report = parseKtap(["KTAP version 1", "1..2", "ok first", "not ok second"], "l2");
  assert.deepEqual(report.tests.map((t) => [t.number, t.name, t.status]), [
    [1, "first", "ok"],
    [2, "second", "not ok"],
  ]);
  assert.deepEqual(report.complete, true);
});

Deno.test("parseKtap() aggregates several top-level documents", () => {
  const report = parseKtap([
    "KTAP version 1",
    "1..1",
    "ok 1 kunit_suite",
    "[    5.000000] systemd[1]: Started getty",
    "KTAP version 1",
    "1..2",
    "ok 1 client_a",
    "# vtcio: support=supported",
  ], "l2");
  assert.deepEqual(report.documents, 2);
  assert.deepEqual(report.planned, 3);
  assert.deepEqual(report.complete, false);
  assert.deepEqual(report.missing, [2]);
  assert.deepEqual(report.tests.map((t) => t.name), ["kunit_suite", "client_a"]);
  assert.deepEqual(report.tests[1].diagnostics, ["vtcio: support=supported"]);
});

Deno.test("parseKtap() reports duplicate test numbers", () => {
  const report = parseKtap(["KTAP version 1", "1..1", "ok 1 a", "ok 1 a"], "l2");
  assert.deepEqual(report.problems, ["Test number 1 reported twice"]);
});

Deno.test("parseFacts() reads bare and quoted values", () => {
  assert.deepEqual(parseFacts('support=supported errno=EOPNOTSUPP note="two words" q="a\\"b"'), {
    support: "supported",
    errno: "EOPNOTSUPP",
    note: "two words",
    q: 'a"b',
  });
  assert.deepEqual(parseFacts("nothing here"), {});
});

Deno.test("stripConsolePrefix() removes timestamps but keeps indentation", () => {
  assert.deepEqual(stripConsolePrefix("[   12.345678]     ok 1 x\r"), "    ok 1 x");
  assert.deepEqual(stripConsolePrefix("[12.3] KTAP version 1"), "KTAP version 1");
  assert.deepEqual(stripConsolePrefix("no prefix"), "no prefix");
});
