import assert from "node:assert/strict";
import { Ajv } from "ajv";
import schema from "../matrix/schema.json" with { type: "json" };
import {
  BUILTIN_AXES,
  MAX_MATRIX_BYTES,
  normalizeAxisValue,
  parseMatrix,
  TOP_LEVEL_KEYS,
} from "./matrix_parse.ts";
import { MatrixError, MatrixErrors } from "./matrix_error.ts";
import { expandMatrix } from "./plan.ts";

const FILE = "matrix/test.yaml";

/** Joins lines, so that line numbers in tests are easy to count. */
function yaml(...lines: string[]): string {
  return lines.join("\n") + "\n";
}

/** The problems parseMatrix reports for `text` (fails if it parses). */
function problems(text: string): MatrixError[] {
  try {
    parseMatrix(text, FILE);
  } catch (error) {
    if (error instanceof MatrixError) return [...error.problems];
    throw error;
  }
  assert.fail("parseMatrix accepted the matrix");
}

interface Expected {
  line: number;
  column: number;
  problem: string | RegExp;
  hint?: string | RegExp;
}

/** Asserts that `text` fails with exactly the `expected` problems, in order. */
function assertProblems(text: string, ...expected: Expected[]): void {
  const actual = problems(text);
  assert.deepEqual(
    actual.map((e) => `${e.line}:${e.column}`),
    expected.map((e) => `${e.line}:${e.column}`),
    actual.map((e) => e.message).join("\n"),
  );
  actual.forEach((error, index) => {
    const want = expected[index];
    assert.equal(error.file, FILE);
    if (typeof want.problem === "string") assert.equal(error.problem, want.problem);
    else assert.match(error.problem, want.problem);
    if (want.hint === undefined) return;
    assert.ok(error.hint !== undefined, `no hint in: ${error.message}`);
    if (typeof want.hint === "string") assert.equal(error.hint, want.hint);
    else assert.match(error.hint, want.hint);
  });
}

const HEAD = ["name: test", "axes:", '  kernel: ["6.1"]'];

Deno.test("parseMatrix() reads a minimal matrix and fills defaults", () => {
  const spec = parseMatrix(yaml(...HEAD), FILE);
  assert.equal(spec.name, "test");
  assert.equal(spec.file, FILE);
  assert.deepEqual(spec.axes, [{
    name: "kernel",
    values: ["6.1"],
    builtin: true,
    pos: { line: 2 + 1, column: 3 },
  }]);
  assert.deepEqual(spec.timeouts, { build: 3600, l1_boot: 180, l2_boot: 300, clients: 300 });
  assert.deepEqual(spec.positions, { axes: { line: 2, column: 1 } });
  assert.deepEqual(spec.include, []);
  assert.deepEqual(spec.exclude, []);
});

Deno.test("parseMatrix() accepts matrix/smoke.yaml and matrix/nightly.yaml", async () => {
  for (const name of ["smoke", "nightly"]) {
    const url = new URL(`../matrix/${name}.yaml`, import.meta.url);
    const spec = parseMatrix(await Deno.readTextFile(url), `matrix/${name}.yaml`);
    assert.equal(spec.name, name);
  }
  const smoke = parseMatrix(
    await Deno.readTextFile(new URL("../matrix/smoke.yaml", import.meta.url)),
    "matrix/smoke.yaml",
  );
  assert.deepEqual(expandMatrix(smoke).cells.map((cell) => cell.id), [
    "6.1-td-on-l1smp1-l2smp1-busybox-l2cpu-host_-xsave",
    "6.1-td-off-l1smp1-l2smp1-busybox-l2cpu-host_-xsave",
  ]);
  const nightly = expandMatrix(parseMatrix(
    await Deno.readTextFile(new URL("../matrix/nightly.yaml", import.meta.url)),
    "matrix/nightly.yaml",
  ));
  // What the nightly must cover: at least 2 kernels x TESTDEVICE on/off x 2 SMP setups x 2 guests
  // (trimmed), and a size one machine can run in a night.
  assert.ok(nightly.cells.length <= 40, `${nightly.cells.length} cells`);
  for (const kernel of ["6.1", "6.12", "7.2"]) {
    for (const testdevice of [true, false]) {
      const smp = new Set(
        nightly.cells.filter((c) => c.kernel === kernel && c.testdevice === testdevice)
          .map((c) => `${c.l1_smp}/${c.l2_smp}`),
      );
      assert.ok(smp.size >= 2, `${kernel} testdevice=${testdevice}: ${[...smp]}`);
    }
  }
  const guests = new Set(nightly.cells.map((cell) => cell.guest));
  for (const g of ["busybox", "debian-bookworm", "debian-trixie"]) assert.ok(guests.has(g), g);
  const kasan = nightly.cells.filter((cell) => cell.debug === "kasan");
  assert.deepEqual(kasan.map((cell) => cell.id), [
    "6.1-td-on-l1smp1-l2smp1-busybox-kasan-l2cpu-host_-xsave",
    ...["fuzz", "two-guests", "service-kill", "disconnect"].map((s) =>
      `6.1-td-on-l1smp1-l2smp1-busybox-kasan-l2cpu-host_-xsave-scenario-${s}`
    ),
  ]);
  assert.ok(kasan.every((cell) => cell.timeouts.build > 3600));
  // Each hostile scenario runs its own scripts on L1 and the agent on L2.
  for (const cell of kasan.slice(1)) {
    assert.deepEqual(cell.effects.l1_append, [`vtcio.scenario=${cell.axes.scenario}`]);
    assert.equal(cell.effects.l2_append[0], "vtcio.scenario=agent");
    assert.ok(cell.timeouts.clients >= 900);
  }
  assert.ok(nightly.cells.every((cell) => !(cell.l1_smp === 1 && cell.l2_smp === 2)));
  assert.deepEqual([...new Set(nightly.cells.map((cell) => cell.kernel))], ["6.1", "6.12", "7.2"]);
  // 7.2 runs busybox cells only: a Debian guest boots its own distro kernel.
  assert.ok(
    nightly.cells.filter((cell) => cell.kernel === "7.2").every((c) => c.guest === "busybox"),
  );
});

Deno.test("parseMatrix() normalises testdevice and user axis values", () => {
  const spec = parseMatrix(
    yaml(
      ...HEAD,
      "  testdevice: [on, false]",
      "  hugepages: [2, 1G]",
      "axis_options:",
      "  hugepages:",
      "    2: {}",
      "    1G:",
      "include:",
      '  - kernel: "6.1"',
      "    testdevice: true",
      "    hugepages: 2",
      "    debug: kasan",
    ),
    FILE,
  );
  assert.deepEqual(spec.axes[1].values, [true, false]);
  assert.deepEqual(spec.axes[2].values, ["2", "1G"]);
  assert.deepEqual(spec.include[0].values, {
    kernel: "6.1",
    testdevice: true,
    hugepages: "2",
    debug: "kasan",
  });
  assert.deepEqual(spec.include[0].pos, { line: 11, column: 5 });
  assert.deepEqual(spec.axisOptions.hugepages["1G"], {
    l1_config: [],
    l2_config: [],
    l1_qemu: [],
    l2_qemu: [],
    l1_append: [],
    l2_append: [],
  });
  assert.equal(normalizeAxisValue("testdevice", "off"), false);
  assert.equal(normalizeAxisValue("l1_smp", 2), 2);
  assert.equal(normalizeAxisValue("iommu", true), "true");
});

Deno.test("parseMatrix() follows YAML anchors and aliases", () => {
  const spec = parseMatrix(
    yaml(
      "name: test",
      "axes:",
      '  kernel: &kernels ["6.1", "6.12"]',
      "include:",
      '  - &kasan { kernel: "6.1", debug: kasan }',
      "expect:",
      "  - when: *kasan",
      "    outcome: fail",
    ),
    FILE,
  );
  assert.deepEqual(spec.axes[0].values, ["6.1", "6.12"]);
  assert.deepEqual(spec.expect[0].when, { kernel: "6.1", debug: "kasan" });
});

Deno.test("MatrixError message is file:line:column: problem (hint)", () => {
  const [error] = problems(yaml("name: test", "axis:", '  kernel: ["6.1"]'));
  assert.equal(
    error.message,
    'matrix/test.yaml:2:1: Unknown top-level key "axis" (did you mean "axes"?)',
  );
  assert.ok(error instanceof MatrixError);
  const plain = new MatrixError({ file: "f", line: 1, column: 2, problem: "Bad" });
  assert.equal(plain.message, "f:1:2: Bad");
});

Deno.test("parseMatrix() refuses files over 1 MiB", () => {
  const big = yaml(...HEAD) + "#".repeat(MAX_MATRIX_BYTES);
  assertProblems(big, {
    line: 1,
    column: 1,
    problem: "Matrix file is too large (over 1 MiB)",
    hint: "split it into several matrix files",
  });
  // Counted in UTF-8 bytes, not characters.
  const wide = yaml(...HEAD) + "# " + "é".repeat(MAX_MATRIX_BYTES / 2);
  assert.ok(wide.length < MAX_MATRIX_BYTES);
  assertProblems(wide, { line: 1, column: 1, problem: /too large/ });
  // Just under the limit is fine.
  const fits = yaml(...HEAD) + "#".repeat(MAX_MATRIX_BYTES - yaml(...HEAD).length);
  assert.equal(parseMatrix(fits, FILE).name, "test");
});

Deno.test("parseMatrix() reports YAML syntax errors with their position", () => {
  assertProblems(
    yaml("name: test", "axes:", '  kernel: ["6.1"', "  guest: [busybox]"),
    { line: 4, column: 3, problem: /^YAML syntax error: / },
  );
  assertProblems(
    yaml("name: test", "axes:", '  kernel: ["6.1"]', "  guest: [busybox", ""),
    { line: 6, column: 1, problem: /^YAML syntax error: Flow sequence/ },
  );
  assertProblems(yaml('name: "test', "axes:", '  kernel: ["6.1"]'), {
    line: 1,
    column: 12,
    problem: 'YAML syntax error: Missing closing "quote',
  });
  assertProblems(yaml("name: test", "axes:", '\tkernel: ["6.1"]'), {
    line: 3,
    column: 1,
    problem: "YAML syntax error: Tabs are not allowed as indentation",
  });
  assertProblems(yaml("name: a", "---", "name: b"), {
    line: 2,
    column: 1,
    problem: /multiple documents/,
  });
});

Deno.test("parseMatrix() rejects duplicate keys", () => {
  assertProblems(
    yaml("name: test", "axes:", '  kernel: ["6.1"]', "  guest: [busybox]", '  kernel: ["6.12"]'),
    { line: 5, column: 3, problem: 'Duplicate key "kernel"', hint: "first given at line 3" },
  );
  assertProblems(
    yaml(...HEAD, "include:", '  - kernel: "6.1"', "    debug: kasan", "    debug: none"),
    { line: 7, column: 5, problem: 'Duplicate key "debug"', hint: "first given at line 6" },
  );
  assertProblems(yaml(...HEAD, "name: again"), {
    line: 4,
    column: 1,
    problem: 'Duplicate key "name"',
  });
});

Deno.test("parseMatrix() rejects an empty file and a non-map document", () => {
  assertProblems("", { line: 1, column: 1, problem: "Matrix file is empty" });
  assertProblems("# only a comment\n", { line: 1, column: 1, problem: "Matrix file is empty" });
  assertProblems(yaml("", "- kernel"), {
    line: 2,
    column: 1,
    problem: "Expected a map for the top level, found a list",
  });
});

Deno.test("parseMatrix() rejects unknown top-level keys with a suggestion", () => {
  assertProblems(yaml(...HEAD, "exclued: []"), {
    line: 4,
    column: 1,
    problem: 'Unknown top-level key "exclued"',
    hint: 'did you mean "exclude"?',
  });
  assertProblems(yaml(...HEAD, "colour: red"), {
    line: 4,
    column: 1,
    problem: 'Unknown top-level key "colour"',
    hint: /^expected one of name, description, axes/,
  });
  // A misspelt required key is reported once, as the unknown key.
  assertProblems(yaml("nmae: test", "axes:", '  kernel: ["6.1"]'), {
    line: 1,
    column: 1,
    problem: 'Unknown top-level key "nmae"',
    hint: 'did you mean "name"?',
  });
});

Deno.test("parseMatrix() reports missing required keys", () => {
  assertProblems(yaml("axes:", '  kernel: ["6.1"]'), {
    line: 1,
    column: 1,
    problem: 'Missing required key "name"',
  });
  assertProblems(yaml("name: test", "axes:", "  guest: [busybox]"), {
    line: 2,
    column: 1,
    problem: 'Missing required axis "kernel" under axes',
    hint: /kernel: \["6\.1"\]/,
  });
});

Deno.test("parseMatrix() rejects unknown axis names with a suggestion", () => {
  // A misspelt kernel: the missing kernel and the unknown key are one typo.
  assertProblems(yaml("name: test", "axes:", '  kernal: ["6.1"]'), {
    line: 3,
    column: 3,
    problem: 'Unknown axis "kernal"',
    hint: 'did you mean "kernel"?',
  });
  assertProblems(yaml(...HEAD, "  l1smp: [1]"), {
    line: 4,
    column: 3,
    problem: 'Unknown axis "l1smp"',
    hint: 'did you mean "l1_smp"?',
  });
  assertProblems(yaml(...HEAD, "  colour: [red]"), {
    line: 4,
    column: 3,
    problem: 'Unknown axis "colour"',
    hint: "define the values of a user axis under axis_options.colour",
  });
  // Names of Object.prototype members are not mistaken for defined axes or values.
  assertProblems(yaml(...HEAD, "  constructor: [x]"), {
    line: 4,
    column: 3,
    problem: 'Unknown axis "constructor"',
  });
  assertProblems(yaml(...HEAD, "  mode: [toString]", "axis_options:", "  mode: {fast: {}}"), {
    line: 4,
    column: 10,
    problem: 'Value "toString" of axis mode is not defined under axis_options.mode',
    hint: "defined values: fast",
  });
  assertProblems(yaml(...HEAD, "  Guest: [busybox]"), {
    line: 4,
    column: 3,
    problem: 'Invalid name "Guest" in axes',
    hint: /lowercase/,
  });
});

Deno.test("parseMatrix() rejects values of the wrong type", () => {
  assertProblems(yaml(...HEAD, '  l1_smp: [1, "two"]'), {
    line: 4,
    column: 15,
    problem: 'Expected an integer from 1 to 64 for axes.l1_smp[1], found "two"',
  });
  assertProblems(yaml(...HEAD, "  l1_smp: two"), {
    line: 4,
    column: 11,
    problem: 'Expected a non-empty list of values for axes.l1_smp, found "two"',
    hint: "write a list, e.g. l1_smp: [two]",
  });
  assertProblems(yaml(...HEAD, "  l2_smp: [1.5]"), {
    line: 4,
    column: 12,
    problem: "Expected an integer from 1 to 64 for axes.l2_smp[0], found 1.5",
  });
  assertProblems(yaml("name: [a]", "axes:", '  kernel: ["6.1"]'), {
    line: 1,
    column: 7,
    problem: "Expected a non-empty string for name, found a list",
  });
});

Deno.test("parseMatrix() explains unquoted kernel versions", () => {
  assertProblems(yaml("name: test", "axes:", "  kernel: [6.1, 6.10]"), {
    line: 3,
    column: 12,
    problem: 'Expected a kernel version such as "6.12" for axes.kernel[0], found 6.1',
    hint: 'write "6.1" in quotes: YAML reads 6.1 as a number',
  }, {
    line: 3,
    column: 17,
    problem: 'Expected a kernel version such as "6.12" for axes.kernel[1], found 6.1',
    hint: 'write "6.10" in quotes: YAML reads 6.10 as the number 6.1',
  });
  assertProblems(yaml(...HEAD, "include:", "  - kernel: 6.12", "    debug: kasan"), {
    line: 5,
    column: 13,
    problem: /^Expected a kernel version .* for include\[0\]\.kernel, found 6\.12$/,
    hint: 'write "6.12" in quotes: YAML reads 6.12 as a number',
  });
  assertProblems(yaml("name: test", "axes:", '  kernel: ["linux-6.1"]'), {
    line: 3,
    column: 12,
    problem: 'Expected a kernel version such as "6.12" for axes.kernel[0], found "linux-6.1"',
  });
});

Deno.test("parseMatrix() rejects empty axes and empty value lists", () => {
  assertProblems(yaml("name: test", "axes:", "  kernel: []"), {
    line: 3,
    column: 11,
    problem: "Expected a non-empty list of values for axes.kernel, found an empty list",
    hint: "give at least one value",
  });
  assertProblems(yaml(...HEAD, "  guest:"), {
    line: 4,
    column: 3,
    problem: "Expected a non-empty list of values for axes.guest, found nothing",
    hint: "give at least one value, or remove the axis to use its default",
  });
  assertProblems(yaml("name: test", "axes: {}"), {
    line: 2,
    column: 1,
    problem: 'Missing required axis "kernel" under axes',
  });
  assertProblems(yaml("name: test", "axes:"), {
    line: 2,
    column: 1,
    problem: "Expected a map for axes, found nothing",
  });
});

Deno.test("parseMatrix() rejects invalid values of built-in axes", () => {
  assertProblems(
    yaml(
      ...HEAD,
      "  guest: [debain-bookworm]",
      "  l2_smp: [0, 65]",
      "  testdevice: [yes]",
      "  debug: [kasn]",
      '  l2_cpu: ["qemu64 +vmx"]',
    ),
    {
      line: 4,
      column: 11,
      problem: "Expected one of busybox, debian-bookworm or debian-trixie for axes.guest[0], " +
        'found "debain-bookworm"',
      hint: 'did you mean "debian-bookworm"?',
    },
    {
      line: 5,
      column: 12,
      problem: "Expected an integer from 1 to 64 for axes.l2_smp[0], found 0",
    },
    {
      line: 5,
      column: 15,
      problem: "Expected an integer from 1 to 64 for axes.l2_smp[1], found 65",
    },
    {
      line: 6,
      column: 16,
      problem: 'Expected one of on, off, true or false for axes.testdevice[0], found "yes"',
      hint: "use on/off or true/false",
    },
    {
      line: 7,
      column: 11,
      problem: 'Expected one of none or kasan for axes.debug[0], found "kasn"',
      hint: 'did you mean "kasan"?',
    },
    {
      line: 8,
      column: 12,
      problem: /^Expected a QEMU CPU model such as "host" or "qemu64" for axes\.l2_cpu\[0\]/,
    },
  );
});

Deno.test("parseMatrix() rejects duplicate values within an axis", () => {
  assertProblems(yaml(...HEAD, "  testdevice: [on, true]"), {
    line: 4,
    column: 20,
    problem: "Duplicate value true in axis testdevice",
  });
});

Deno.test("parseMatrix() maps schema errors deep in lists to their node", () => {
  assertProblems(
    yaml(
      ...HEAD,
      "include:",
      '  - kernel: "6.1"',
      "    debug: kasan",
      '  - kernel: "6.1"',
      "    l1_smp: 0",
      "    guest: [busybox]",
    ),
    {
      line: 8,
      column: 13,
      problem: "Expected an integer from 1 to 64 for include[1].l1_smp, found 0",
    },
    {
      line: 9,
      column: 12,
      problem: /^Expected one of busybox, .* for include\[1\]\.guest, found a list$/,
      hint: "include entries give one value per axis, not a list",
    },
  );
  assertProblems(yaml(...HEAD, "include:", "  - {}"), {
    line: 5,
    column: 5,
    problem: "Expected a non-empty map for include[0], found an empty map",
  });
});

Deno.test("parseMatrix() rejects include and exclude entries naming unknown axes", () => {
  assertProblems(
    yaml(
      ...HEAD,
      "exclude:",
      '  - kernal: "6.1"',
      "include:",
      '  - kernel: "6.1"',
      "    gest: busybox",
    ),
    { line: 5, column: 5, problem: 'Unknown axis "kernal"', hint: 'did you mean "kernel"?' },
    { line: 8, column: 5, problem: 'Unknown axis "gest"', hint: 'did you mean "guest"?' },
  );
});

Deno.test("parseMatrix() rejects excludes that can never match", () => {
  assertProblems(
    yaml(...HEAD, "exclude:", "  - debug: kasan"),
    {
      line: 5,
      column: 5,
      problem: "Exclude names axis debug, which is not listed under axes",
      hint: "an exclude can only match axes listed under axes",
    },
  );
  assertProblems(
    yaml("name: test", "axes:", '  kernel: ["6.1", "6.12"]', "exclude:", '  - kernel: "6.2"'),
    {
      line: 5,
      column: 13,
      problem: 'Exclude value "6.2" is not a value of axis kernel, so it matches nothing',
      hint: 'did you mean "6.1"?',
    },
  );
});

Deno.test("parseMatrix() rejects a matrix whose excludes remove every cell", () => {
  assertProblems(
    yaml(
      "name: test",
      "axes:",
      '  kernel: ["6.1", "6.12"]',
      "  testdevice: [on]",
      "exclude:",
      "  - testdevice: on",
    ),
    {
      line: 6,
      column: 5,
      problem: "Matrix has no cells: this exclude drops every combination",
      hint: /every combination that has all of its values/,
    },
  );
  assertProblems(
    yaml(
      "name: test",
      "axes:",
      '  kernel: ["6.1", "6.12"]',
      "exclude:",
      '  - kernel: "6.1"',
      '  - kernel: "6.12"',
    ),
    {
      line: 4,
      column: 1,
      problem: "Matrix has no cells: the excludes at lines 5, 6 drop every combination",
    },
  );
});

Deno.test("parseMatrix() checks user axes against axis_options", () => {
  const options = [
    "axis_options:",
    "  iommu:",
    "    off: {}",
    "    on:",
    "      l1_qemu: [-device, intel-iommu]",
    "      l1_config: [kernel/configs/iommu.config]",
  ];
  const spec = parseMatrix(yaml(...HEAD, "  iommu: [off, on]", ...options), FILE);
  assert.deepEqual(spec.axisOptions.iommu.on, {
    l1_config: ["kernel/configs/iommu.config"],
    l2_config: [],
    l1_qemu: ["-device", "intel-iommu"],
    l2_qemu: [],
    l1_append: [],
    l2_append: [],
  });
  assertProblems(yaml(...HEAD, "  iommu: [of]", ...options), {
    line: 4,
    column: 11,
    problem: 'Value "of" of axis iommu is not defined under axis_options.iommu',
    hint: 'did you mean "off"?',
  });
  assertProblems(
    yaml(...HEAD, "include:", '  - kernel: "6.1"', "    iommu: maybe", ...options),
    {
      line: 6,
      column: 12,
      problem: 'Value "maybe" of axis iommu is not defined under axis_options.iommu',
      hint: "defined values: off, on",
    },
  );
  assertProblems(
    yaml(...HEAD, "axis_options:", "  guest:", "    alpine: {}"),
    {
      line: 5,
      column: 3,
      problem: "Axis guest is built in and cannot have axis_options",
    },
  );
  assertProblems(
    yaml(...HEAD, "axis_options:", "  iommu:", "    on:", "      l1_conf: [x.config]"),
    {
      line: 7,
      column: 7,
      problem: 'Unknown key "l1_conf" in axis_options.iommu.on',
      hint: 'did you mean "l1_config"?',
    },
  );
  assertProblems(
    yaml(
      ...HEAD,
      "axis_options:",
      "  iommu:",
      "    on:",
      "      l1_config: [/etc/iommu.config, ../up.config, [nested]]",
    ),
    {
      line: 7,
      column: 52,
      problem: /^Expected a non-empty string for axis_options\.iommu\.on\.l1_config\[2\]/,
    },
  );
  assertProblems(
    yaml(
      ...HEAD,
      "axis_options:",
      "  iommu:",
      "    on:",
      "      l1_config: [/etc/iommu.config, configs/../../up.config]",
    ),
    {
      line: 7,
      column: 19,
      problem: 'Config path "/etc/iommu.config" must be relative to the repository root',
    },
    {
      line: 7,
      column: 38,
      problem: 'Config path "configs/../../up.config" must stay inside the repository (no "..")',
    },
  );
});

Deno.test("parseMatrix() checks expect and timeouts rules", () => {
  assertProblems(
    yaml(...HEAD, "expect:", '  - when: {kernel: "6.1"}', "    outcom: fail"),
    {
      line: 6,
      column: 5,
      problem: 'Unknown key "outcom" in expect[0]',
      hint: 'did you mean "outcome"?',
    },
  );
  assertProblems(yaml(...HEAD, "expect:", "  - when: {}", "    reason: nothing"), {
    line: 5,
    column: 5,
    problem: "Expect rule sets neither support nor outcome",
  });
  assertProblems(yaml(...HEAD, "expect:", '  - when: {kernal: "6.1"}', "    outcome: fail"), {
    line: 5,
    column: 12,
    problem: 'Unknown axis "kernal"',
    hint: 'did you mean "kernel"?',
  });
  assertProblems(yaml(...HEAD, "expect:", "  - when: {}", "    outcome: flaky"), {
    line: 6,
    column: 14,
    problem: 'Expected one of pass or fail for expect[0].outcome, found "flaky"',
  });
  assertProblems(yaml(...HEAD, "timeouts:", "  build: 0", "  l2_boot: fast"), {
    line: 5,
    column: 10,
    problem: "Expected a positive number of seconds for timeouts.build, found 0",
  }, {
    line: 6,
    column: 12,
    problem: 'Expected a positive number of seconds for timeouts.l2_boot, found "fast"',
  });
  assertProblems(yaml(...HEAD, "timeouts_for:", "  - when: {debug: kasan}"), {
    line: 5,
    column: 5,
    problem: "Rule in timeouts_for sets no timeout",
  });
  const spec = parseMatrix(
    yaml(...HEAD, "timeouts:", "  clients: 60", "timeouts_for:", "  - when: {}", "    build: 7200"),
    FILE,
  );
  assert.deepEqual(spec.timeouts, { build: 3600, l1_boot: 180, l2_boot: 300, clients: 60 });
  assert.deepEqual(spec.timeoutsFor[0].timeouts, { build: 7200 });
});

Deno.test("parseMatrix() reports several problems of a phase at once", () => {
  let thrown: unknown;
  try {
    parseMatrix(yaml(...HEAD, "  l1_smp: [0]", "color: red"), FILE);
  } catch (error) {
    thrown = error;
  }
  assert.ok(thrown instanceof MatrixErrors);
  assert.ok(thrown instanceof MatrixError);
  assert.equal(thrown.errors.length, 2);
  assert.equal(thrown.line, 4);
  assert.equal(
    thrown.message,
    [
      "matrix/test.yaml:4:12: Expected an integer from 1 to 64 for axes.l1_smp[0], found 0",
      'matrix/test.yaml:5:1: Unknown top-level key "color" (expected one of name, description, ' +
      "axes, axis_options, exclude, include, expect, timeouts, timeouts_for)",
    ].join("\n"),
  );
});

Deno.test("parseMatrix() rejects cells that would share an id", () => {
  assertProblems(
    yaml(
      "name: test",
      "axes:",
      '  kernel: ["6.1"]',
      "  guest: [busybox]",
      "include:",
      '  - kernel: "6.1"',
      "    guest: debian-trixie",
      "  - guest: debian-trixie",
      '    kernel: "6.1"',
    ),
    {
      line: 8,
      column: 5,
      problem: 'Two cells have the id "6.1-td-on-l1smp1-l2smp1-debian-trixie"',
      hint: /^the first: created by include at matrix\/test\.yaml:6:5/,
    },
  );
});

Deno.test("parseMatrix() rejects an include that would make a cell without a kernel", () => {
  assertProblems(
    yaml(...HEAD, "  guest: [busybox]", "include:", "  - guest: debian-trixie"),
    {
      line: 6,
      column: 5,
      problem: /^Include entry matches no combination and has no kernel/,
      hint: /add a kernel/,
    },
  );
});

Deno.test("parseMatrix() refuses matrices with too many combinations", () => {
  const many = Array.from({ length: 64 }, (_, i) => i + 1).join(", ");
  assertProblems(
    yaml(
      ...HEAD,
      "  testdevice: [on, off]",
      `  l1_smp: [${many}]`,
      `  l2_smp: [${many}]`,
      "  l2_cpu: [host, qemu64, max]",
    ),
    { line: 2, column: 1, problem: "Matrix has 24576 combinations, more than the limit of 16384" },
  );
});

Deno.test("matrix/schema.json names the same keys and axes as the parser", () => {
  assert.deepEqual(Object.keys(schema.properties), [...TOP_LEVEL_KEYS]);
  assert.deepEqual(Object.keys(schema.properties.axes.properties), [...BUILTIN_AXES]);
  assert.deepEqual(Object.keys(schema.definitions.entry.properties), [...BUILTIN_AXES]);
  assert.deepEqual(Object.keys(schema.definitions.when.properties), [...BUILTIN_AXES]);
  // The published schema compiles on its own, with ajv's defaults.
  const validate = new Ajv({ allowUnionTypes: true }).compile(schema);
  assert.equal(validate({ name: "x", axes: { kernel: ["6.1"] } }), true);
  assert.equal(validate({ name: "x", axes: { kernel: [6.1] } }), false);
});
