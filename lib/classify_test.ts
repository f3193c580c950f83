import assert from "node:assert/strict";
import {
  type CellEvidence,
  classify,
  type ConsoleCrash,
  crashLines,
  isUnexpected,
} from "./classify.ts";
import type { Cell, Expectation, Outcome, TestResult } from "./types.ts";

function cell(expect: Partial<Expectation> = {}): Cell {
  return {
    id: "6.1-td-on-l1smp1-l2smp1-busybox",
    axes: { kernel: "6.1", testdevice: true },
    kernel: "6.1",
    testdevice: true,
    l1_smp: 1,
    l2_smp: 1,
    guest: "busybox",
    debug: "none",
    l2_cpu: "host",
    expect: { support: "supported", outcome: "pass", ...expect },
    timeouts: { build: 1800, l1_boot: 120, l2_boot: 240, clients: 300 },
    effects: {
      l1_config: [],
      l2_config: [],
      l1_qemu: [],
      l2_qemu: [],
      l1_append: [],
      l2_append: [],
    },
    origin: "test",
  };
}

function test(name: string, status: TestResult["status"] = "ok", number = 1): TestResult {
  return { name, status, number, diagnostics: [], suite: "l2" };
}

function evidence(over: Partial<CellEvidence> = {}): CellEvidence {
  return {
    crashes: [],
    tests: [test("probe"), test("roundtrip", "ok", 2)],
    ktapComplete: true,
    facts: { support: "supported" },
    ...over,
  };
}

const PANIC: ConsoleCrash = {
  kind: "panic",
  line: 40,
  summary: "Kernel panic - not syncing: Fatal exception",
  trace: ["[ 3.4] Kernel panic - not syncing: Fatal exception"],
  console: "l2",
};

const WARN_L1: ConsoleCrash = {
  kind: "warning",
  line: 900,
  summary: "WARNING: CPU: 1 PID: 345 at arch/x86/kvm/tciodd.c:212 tciodd_hc_write+0x1a4/0x1f0",
  trace: ["[ 41.1] WARNING: CPU: 1 PID: 345 at arch/x86/kvm/tciodd.c:212", "---[ end trace ]---"],
  console: "l1",
  phase: "clients",
};

Deno.test("classify() passes a complete run with the expected support", () => {
  assert.deepEqual(classify(cell(), evidence()), {
    outcome: "pass",
    reason: "2 tests, host supported",
  });
  const skipped = evidence({ tests: [test("a"), test("b", "skip", 2)] });
  assert.equal(classify(cell(), skipped).reason, "2 tests, host supported, 1 skipped");
});

Deno.test("classify() applies its rules in order", () => {
  const everything = evidence({
    skipReason: "Kernel 4.19 needs gcc < 10",
    buildError: "make: *** [Makefile:1234: vmlinux] Error 2",
    infraError: "QEMU exited with status 1",
    timeout: { phase: "l2_boot", seconds: 240 },
    crashes: [PANIC],
  });
  const steps: Array<[keyof CellEvidence, Outcome]> = [
    ["skipReason", "skip"],
    ["buildError", "build-error"],
    ["infraError", "error"],
    ["crashes", "crash"],
    ["timeout", "timeout"],
  ];
  const ev: CellEvidence = { ...everything };
  for (const [field, outcome] of steps) {
    assert.equal(classify(cell(), ev).outcome, outcome, `with ${field}`);
    if (field === "crashes") ev.crashes = [];
    else delete ev[field];
  }
  assert.equal(classify(cell(), ev).outcome, "pass");
});

Deno.test("classify() explains skips, build and infrastructure errors on one line", () => {
  assert.deepEqual(classify(cell(), evidence({ skipReason: "Needs KVM on the host." })), {
    outcome: "skip",
    reason: "Needs KVM on the host",
  });
  assert.deepEqual(
    classify(
      cell(),
      evidence({ buildError: "\narch/x86/kvm/tciodd.c:12: error: x\nmake: Error 2" }),
    ),
    {
      outcome: "build-error",
      reason: "Build failed: arch/x86/kvm/tciodd.c:12: error: x",
      phase: "build",
    },
  );
  assert.deepEqual(classify(cell(), evidence({ infraError: "Disk full", phase: "image" })), {
    outcome: "error",
    reason: "Disk full",
    phase: "image",
  });
});

Deno.test("classify() blames a crash rather than the timeout it caused", () => {
  const result = classify(
    cell(),
    evidence({ crashes: [PANIC], timeout: { phase: "clients", seconds: 300 } }),
  );
  assert.deepEqual(result, {
    outcome: "crash",
    reason: "Kernel panic on the L2 console: Kernel panic - not syncing: Fatal exception",
    phase: "clients",
  });
});

Deno.test("classify() names the L1 crash first and counts the others", () => {
  const result = classify(cell(), evidence({ crashes: [PANIC, WARN_L1] }));
  assert.equal(result.outcome, "crash");
  assert.equal(
    result.reason,
    "Kernel WARNING on the L1 console: WARNING: CPU: 1 PID: 345 at arch/x86/kvm/tciodd.c:212 " +
      "tciodd_hc_write+0x1a4/0x1f0 (and 1 more)",
  );
  assert.equal(result.phase, "clients");
});

Deno.test("classify() reports timeouts with their phase", () => {
  assert.deepEqual(classify(cell(), evidence({ timeout: { phase: "l2_boot", seconds: 240 } })), {
    outcome: "timeout",
    reason: "Timed out in l2_boot after 240 s",
    phase: "l2_boot",
  });
});

Deno.test("classify() fails without KTAP, with failures or when incomplete", () => {
  assert.deepEqual(classify(cell(), evidence({ tests: [], ktapComplete: false, facts: {} })), {
    outcome: "fail",
    reason: "No test results",
  });
  const failing = evidence({
    tests: [
      test("a", "not ok"),
      test("b", "not ok", 2),
      test("c", "ok", 3),
      test("d", "not ok", 4),
      test("e", "not ok", 5),
    ],
  });
  assert.equal(classify(cell(), failing).reason, "4 of 5 tests failed: a, b, d and 1 more");
  const incomplete = evidence({
    ktapComplete: false,
    ktapProblems: ["Planned 5 tests, 3 did not report (3, 4, 5)"],
  });
  assert.deepEqual(classify(cell(), incomplete), {
    outcome: "fail",
    reason: "Incomplete test output after 2 results: Planned 5 tests, 3 did not report (3, 4, 5)",
  });
});

Deno.test("classify() fails on a support mismatch or a missing support fact", () => {
  assert.deepEqual(classify(cell(), evidence({ facts: { support: "unsupported" } })), {
    outcome: "fail",
    reason: "Expected the host to be supported, the guest client found unsupported",
  });
  assert.equal(
    classify(cell({ support: "unsupported" }), evidence()).reason,
    "Expected the host to be unsupported, the guest client found supported",
  );
  assert.equal(
    classify(cell(), evidence({ facts: {} })).reason,
    "Expected the host to be supported, the guest client did not report support",
  );
});

Deno.test("classify() passes an unsupported host with an empty plan", () => {
  const ev = evidence({ tests: [], ktapComplete: true, facts: { support: "unsupported" } });
  assert.equal(classify(cell({ support: "unsupported" }), ev).outcome, "pass");
});

Deno.test("classify() turns expected failures into xfail and xpass", () => {
  const known = cell({ outcome: "fail", reason: "tcioDD lacks SMP locking" });
  const failing = evidence({ tests: [test("smp_stress", "not ok")] });
  assert.deepEqual(classify(known, failing), {
    outcome: "xfail",
    reason: "Failed as expected (tcioDD lacks SMP locking): 1 of 1 tests failed: smp_stress",
  });
  assert.deepEqual(classify(known, evidence()), {
    outcome: "xpass",
    reason: "Passed but was expected to fail (tcioDD lacks SMP locking)",
  });
  assert.equal(classify(known, evidence({ crashes: [PANIC] })).outcome, "crash");
});

Deno.test("isUnexpected() splits outcomes for the exit code", () => {
  const all: Outcome[] = [
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
  assert.deepEqual(all.filter(isUnexpected), [
    "fail",
    "xpass",
    "error",
    "build-error",
    "timeout",
    "crash",
  ]);
});

Deno.test("crashLines() heads each trace with its kind and console, L1 first", () => {
  assert.deepEqual(crashLines([PANIC, WARN_L1]), [
    "Kernel WARNING on the L1 console:",
    ...WARN_L1.trace,
    "Kernel panic on the L2 console:",
    ...PANIC.trace,
  ]);
});

Deno.test("classify() fails a console flood, after crashes and before timeouts", () => {
  const flood = { console: "l2" as const, bytes: 16 * 1024 * 1024, phase: "clients" as const };
  const v = classify(cell(), evidence({ flood, timeout: { phase: "clients", seconds: 5 } }));
  assert.deepEqual(v, {
    outcome: "fail",
    reason: "Console flood on the L2 console: more than 16 MiB, the guest was stopped",
    phase: "clients",
  });
  assert.equal(classify(cell(), evidence({ flood, crashes: [PANIC] })).outcome, "crash");
});

Deno.test("classify() names an option the kernel lacks when a cell goes wrong, only then", () => {
  const dropped = [
    "L1 CONFIG_KVM_TCIOD=y (final .config: not set)",
    "L1 CONFIG_FOO=y (final .config: not set)",
  ];
  const wrong = classify(
    cell(),
    evidence({ facts: { support: "unsupported" }, droppedOptions: dropped }),
  );
  assert.equal(wrong.outcome, "fail");
  assert.equal(
    wrong.reason,
    "Expected the host to be supported, the guest client found unsupported; a config fragment " +
      "asked for L1 CONFIG_KVM_TCIOD=y (final .config: not set) (and 1 more)",
  );
  // A pass, an infrastructure error or a build error keeps its own reason.
  assert.equal(
    classify(cell(), evidence({ droppedOptions: dropped })).reason,
    "2 tests, host supported",
  );
  const infra = classify(cell(), evidence({ infraError: "QEMU exited", droppedOptions: dropped }));
  assert.equal(infra.reason, "QEMU exited");
  const build = classify(cell(), evidence({ buildError: "make failed", droppedOptions: dropped }));
  assert.equal(build.reason, "Build failed: make failed");
});
