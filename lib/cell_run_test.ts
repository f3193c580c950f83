import { assertEquals, assertMatch } from "./test_assert.ts";
import {
  evidenceFromBoot,
  hostSuiteLines,
  l2Scenario,
  missingDebugOptions,
  runCell,
  splitRelayed,
} from "./cell_run.ts";
import { faultContext, testCell } from "./testdata/fake_guest.ts";
import type { BootRecord } from "./boot.ts";
import { classify } from "./classify.ts";
import type { Cell } from "./types.ts";

const M1 = "11".repeat(32);
const M2 = "22".repeat(32);

function record(l1: string[], l2: string[]): BootRecord {
  return { timings: {}, l1, l2, qemuExit: 0, completed: true, argv: [], phase: "shutdown" };
}

function cell(l2Append: string[]): Cell {
  const base = testCell("c", { axes: {}, debug: "kasan" });
  return { ...base, effects: { ...base.effects, l2_append: l2Append } };
}

const ktap = (name: string, facts = "") => [
  "KTAP version 1",
  "1..1",
  ...(facts ? [`# vtcio: ${facts}`] : []),
  `ok 1 ${name}`,
];

Deno.test("hostSuiteLines: every host-suite and checks section of L1, in order", () => {
  const l1 = [
    "noise",
    "vtcio-l1: host-suite begin",
    "a",
    "vtcio-l1: host-suite end status=0",
    "between",
    "vtcio-l1: checks begin",
    "b",
    "vtcio-l1: checks end",
    "after",
  ];
  assertEquals(hostSuiteLines(l1), ["a", "b"]);
});

Deno.test("splitRelayed: lines L1 relayed from the second guest go apart, unprefixed", () => {
  const { l1, l2b } = splitRelayed([
    "vtcio-l1: init",
    "l2b| [    1.000] Linux version 6.1",
    "l2b| KTAP version 1",
    "[    9.0] kvm: something l2b| not a relay",
  ]);
  assertEquals(l2b, ["[    1.000] Linux version 6.1", "KTAP version 1"]);
  assertEquals(l1, ["vtcio-l1: init", "[    9.0] kvm: something l2b| not a relay"]);
});

Deno.test("evidenceFromBoot: a scenario's L1 checks and both guests are judged", () => {
  const l1 = [
    "vtcio-l1: init",
    `vtcio: l2 measurement=${M1}`,
    `l2b| vtcio: l2 measurement=${M2}`,
    ...ktap("usermode").map((l) => `l2b| ${l}`),
    ...ktap("pair", `support=supported program_hash=${M2}`).map((l) => `l2b| ${l}`),
    "vtcio-l1: checks begin",
    ...ktap("tciodd_nothing_left"),
    "vtcio-l1: checks end",
  ];
  const l2 = ktap("pair", `support=supported program_hash=${M1}`);
  const ev = evidenceFromBoot(record(l1, l2), { guestSuite: false });
  assertEquals(ev.ktapComplete, true, ev.ktapProblems?.join("; "));
  assertEquals(ev.tests.map((t) => `${t.suite}:${t.name}:${t.status}`), [
    "host:tciodd_nothing_left:ok",
    "guest:pair:ok",
    "guest-b:usermode:ok",
    "guest-b:pair:ok",
    "runner:guest program hash is the launcher's measurement:ok",
    "runner:second guest program hash is its launcher's measurement:ok",
  ]);
  assertEquals(ev.facts.l2b_program_hash, M2);
  assertEquals(classify(cell(["vtcio.scenario=agent"]), ev).outcome, "pass");
});

Deno.test("evidenceFromBoot: a second guest reporting the first one's hash fails the cell", () => {
  const l1 = [
    `vtcio: l2 measurement=${M1}`,
    `l2b| vtcio: l2 measurement=${M2}`,
    ...ktap("pair", `support=supported program_hash=${M1}`).map((l) => `l2b| ${l}`),
    "vtcio-l1: checks begin",
    ...ktap("x"),
    "vtcio-l1: checks end",
  ];
  const ev = evidenceFromBoot(record(l1, ktap("pair", `support=supported program_hash=${M1}`)), {
    guestSuite: false,
  });
  const v = classify(cell(["vtcio.scenario=agent"]), ev);
  assertEquals(v.outcome, "fail");
  assertMatch(v.reason, /second guest program hash/);
});

Deno.test("evidenceFromBoot: a crash on the relayed console is the second guest's", () => {
  const l1 = [
    "l2b| [    2.000] BUG: kernel NULL pointer dereference, address: 0000000000000000",
    "l2b| [    2.001] Oops: 0000 [#1] SMP",
    "vtcio-l1: checks begin",
    ...ktap("x"),
    "vtcio-l1: checks end",
  ];
  const ev = evidenceFromBoot(record(l1, ktap("y", "support=supported")), { guestSuite: false });
  assertEquals(ev.crashes.map((c) => c.console), ["l2b"]);
  assertMatch(classify(cell([]), ev).reason, /on the L2B console/);
});

Deno.test("evidenceFromBoot: the guest suite must report its program hash, a scenario may not", () => {
  const l1 = [
    `vtcio: l2 measurement=${M1}`,
    "vtcio-l1: host-suite begin",
    ...ktap("h"),
    "vtcio-l1: host-suite end",
  ];
  const l2 = ktap("g", "support=supported");
  const suite = evidenceFromBoot(record(l1, l2));
  assertEquals(suite.tests.at(-1)?.status, "not ok");
  const scenario = evidenceFromBoot(record(l1, l2), { guestSuite: false });
  assertEquals(scenario.tests.map((t) => t.suite), ["host", "guest"]);
});

Deno.test("evidenceFromBoot: a second guest that printed nothing complete is incomplete", () => {
  const l1 = [
    "l2b| KTAP version 1",
    "l2b| 1..2",
    "l2b| ok 1 a",
    "vtcio-l1: checks begin",
    ...ktap("x"),
    "vtcio-l1: checks end",
  ];
  const ev = evidenceFromBoot(record(l1, ktap("y", "support=supported")), { guestSuite: false });
  assertEquals(ev.ktapComplete, false);
  assertMatch(ev.ktapProblems?.join("; ") ?? "", /second guest: Planned 2 tests/);
});

Deno.test("l2Scenario: the L2 scenario from the cell's L2 command line words", () => {
  assertEquals(l2Scenario(cell([])), "clients");
  assertEquals(l2Scenario(cell(["quiet", "vtcio.scenario=agent"])), "agent");
});

Deno.test("missingDebugOptions: only the debug fragment's own options count", () => {
  const fragment =
    "CONFIG_SLUB=y\n# CONFIG_SLOB is not set\nCONFIG_KASAN=y\nCONFIG_DEBUG_KMEMLEAK=y\n";
  const dropped = [
    "CONFIG_KASAN=y (final .config: not set)",
    "CONFIG_KVM_INTEL=y (final .config: not set)",
  ];
  assertEquals(missingDebugOptions(fragment, dropped), ["CONFIG_KASAN=y (final .config: not set)"]);
  assertEquals(missingDebugOptions(fragment, []), []);
});

Deno.test("runCell() skips a cell whose kernel has no source, with the reason the run knows", async () => {
  const root = await Deno.makeTempDir({ prefix: "vtcio-cell-run-" });
  try {
    const ctx = await faultContext(root, "/nonexistent/qemu");
    const cell = testCell("7.2-on", { kernel: "7.2", axes: { kernel: "7.2", testdevice: true } });
    const why = "Fetching linux-source-7.2 from sid failed (E: Failed to fetch InRelease); fix " +
      "that and run ./vtcio setup --kernel 7.2 (docs/troubleshooting.md#kernel-source-72-optional)";
    const fetched = await runCell(cell, `${root}/a`, { ...ctx, sourceProblems: { "7.2": why } });
    assertEquals(fetched.outcome, "skip");
    assertEquals(fetched.reason, why);

    const plain = await runCell(cell, `${root}/b`, ctx);
    assertEquals(plain.outcome, "skip");
    assertEquals(plain.reason, "No linux-source tarball for kernel 7.2 on this host");
    const saved = JSON.parse(await Deno.readTextFile(`${root}/b/result.json`));
    assertEquals(saved.reason, plain.reason);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
