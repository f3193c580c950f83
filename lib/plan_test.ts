import assert from "node:assert/strict";
import type { AxisValue, Cell } from "./types.ts";
import { parseMatrix } from "./matrix_parse.ts";
import { MatrixError } from "./matrix_error.ts";
import {
  expandCombinations,
  expandMatrix,
  formatAxisValue,
  parseOnly,
  parseShard,
  type Plan,
  selectCells,
  SelectionError,
} from "./plan.ts";

const FILE = "matrix/test.yaml";

function yaml(...lines: string[]): string {
  return lines.join("\n") + "\n";
}

function plan(...lines: string[]): Plan {
  return expandMatrix(parseMatrix(yaml(...lines), FILE));
}

function ids(cells: readonly Cell[]): string[] {
  return cells.map((cell) => cell.id);
}

function values(axes: Record<string, readonly AxisValue[]>) {
  return Object.entries(axes).map(([name, list]) => ({ name, values: list }));
}

// --- GitHub Actions semantics, on the examples of GitHub's documentation ----------------------

Deno.test("expandCombinations() follows GitHub's 'Expanding or adding matrix configurations'", () => {
  // https://docs.github.com/en/actions/using-jobs/using-a-matrix-for-your-jobs
  const result = expandCombinations(
    values({ fruit: ["apple", "pear"], animal: ["cat", "dog"] }),
    [],
    [
      { color: "green" },
      { color: "pink", animal: "cat" },
      { fruit: "apple", shape: "circle" },
      { fruit: "banana" },
      { fruit: "banana", animal: "cat" },
    ],
  );
  assert.deepEqual(result.combinations.map((c) => c.values), [
    { fruit: "apple", animal: "cat", color: "pink", shape: "circle" },
    { fruit: "apple", animal: "dog", color: "green", shape: "circle" },
    { fruit: "pear", animal: "cat", color: "pink" },
    { fruit: "pear", animal: "dog", color: "green" },
    { fruit: "banana" },
    { fruit: "banana", animal: "cat" },
  ]);
  assert.deepEqual(result.combinations.map((c) => [c.createdBy, c.mergedBy]), [
    [undefined, [0, 1, 2]],
    [undefined, [0, 2]],
    [undefined, [0, 1]],
    [undefined, [0]],
    [3, []],
    [4, []],
  ]);
  assert.deepEqual(result.excluded, []);
});

Deno.test("expandCombinations() adds keys to one combination (os/node/npm example)", () => {
  const result = expandCombinations(
    values({ os: ["windows-latest", "ubuntu-latest"], node: [14, 16] }),
    [],
    [{ os: "windows-latest", node: 16, npm: 6 }],
  );
  assert.deepEqual(result.combinations.map((c) => c.values), [
    { os: "windows-latest", node: 14 },
    { os: "windows-latest", node: 16, npm: 6 },
    { os: "ubuntu-latest", node: 14 },
    { os: "ubuntu-latest", node: 16 },
  ]);
});

Deno.test("expandCombinations() adds a new combination for an unmatched original value", () => {
  const result = expandCombinations(
    values({ os: ["windows-latest", "ubuntu-latest"], version: [10, 12] }),
    [],
    [{ os: "windows-latest", version: 17 }],
  );
  assert.equal(result.combinations.length, 5);
  assert.deepEqual(result.combinations[4], {
    values: { os: "windows-latest", version: 17 },
    createdBy: 0,
    mergedBy: [],
  });
});

Deno.test("expandCombinations() applies excludes first, with partial matches", () => {
  // GitHub's "Excluding matrix configurations" example.
  const result = expandCombinations(
    values({
      os: ["macos-latest", "windows-latest"],
      version: [12, 14, 16],
      environment: ["staging", "production"],
    }),
    [
      { os: "macos-latest", version: 12, environment: "production" },
      { os: "windows-latest", version: 16 },
    ],
    [],
  );
  assert.equal(result.combinations.length, 12 - 1 - 2);
  assert.deepEqual(result.excluded, [
    { values: { os: "macos-latest", version: 12, environment: "production" }, by: 0 },
    { values: { os: "windows-latest", version: 16, environment: "staging" }, by: 1 },
    { values: { os: "windows-latest", version: 16, environment: "production" }, by: 1 },
  ]);
});

Deno.test("expandCombinations() lets an include add back an excluded combination", () => {
  const result = expandCombinations(
    values({ a: [1, 2], b: ["x", "y"] }),
    [{ a: 2 }],
    [{ a: 2, b: "y", extra: "back" }],
  );
  assert.deepEqual(result.combinations.map((c) => c.values), [
    { a: 1, b: "x" },
    { a: 1, b: "y" },
    { a: 2, b: "y", extra: "back" },
  ]);
});

Deno.test("expandCombinations() never overwrites original values, only added ones", () => {
  const result = expandCombinations(
    values({ a: [1, 2] }),
    [],
    [{ note: "first" }, { a: 1, note: "second" }, { a: 3, note: "third" }],
  );
  assert.deepEqual(result.combinations.map((c) => c.values), [
    { a: 1, note: "second" },
    { a: 2, note: "first" },
    { a: 3, note: "third" },
  ]);
});

// --- Cells from matrix files ------------------------------------------------------------------

const FRUIT_OPTIONS = [
  "axis_options:",
  "  fruit: {apple: {}, pear: {}, banana: {}}",
  "  animal: {cat: {}, dog: {}}",
  "  color: {green: {}, pink: {}}",
  "  shape: {circle: {}}",
];

Deno.test("expandMatrix() applies GitHub semantics to cells (fruit/animal example)", () => {
  const result = plan(
    "name: fruit",
    "axes:",
    '  kernel: ["6.1"]',
    "  fruit: [apple, pear]",
    "  animal: [cat, dog]",
    ...FRUIT_OPTIONS,
    "include:",
    "  - color: green", // line 12
    "  - color: pink",
    "    animal: cat",
    "  - fruit: apple",
    "    shape: circle",
    '  - kernel: "6.1"', // line 17: kernel is an original axis, so it must match too
    "    fruit: banana",
    '  - kernel: "6.1"',
    "    fruit: banana",
    "    animal: cat",
  );
  const base = "6.1-td-on-l1smp1-l2smp1-busybox";
  assert.deepEqual(ids(result.cells), [
    `${base}-fruit-apple-animal-cat-color-pink-shape-circle`,
    `${base}-fruit-apple-animal-dog-color-green-shape-circle`,
    `${base}-fruit-pear-animal-cat-color-pink`,
    `${base}-fruit-pear-animal-dog-color-green`,
    `${base}-fruit-banana`,
    `${base}-fruit-banana-animal-cat`,
  ]);
  assert.deepEqual(result.cells[2].axes, {
    kernel: "6.1",
    testdevice: true,
    l1_smp: 1,
    l2_smp: 1,
    guest: "busybox",
    debug: "none",
    l2_cpu: "host",
    fruit: "pear",
    animal: "cat",
    color: "pink",
  });
  assert.equal(
    result.cells[0].origin,
    "product of axes; include at matrix/test.yaml:12:5 added color=green; " +
      "include at matrix/test.yaml:13:5 added color=pink; " +
      "include at matrix/test.yaml:15:5 added shape=circle",
  );
  assert.equal(
    result.cells[4].origin,
    "created by include at matrix/test.yaml:17:5 (it matched no combination)",
  );
  assert.deepEqual(result.explain.slice(0, 2), [
    `${result.cells[0].id}: ${result.cells[0].origin}`,
    `${result.cells[1].id}: ${result.cells[1].origin}`,
  ]);
});

Deno.test("expandMatrix() treats only the axes listed in the file as original", () => {
  // l2_cpu and debug are not listed: the include adds them to every 6.12 cell.
  const result = plan(
    "name: test",
    "axes:",
    '  kernel: ["6.1", "6.12"]',
    "include:",
    '  - kernel: "6.12"',
    "    l2_cpu: qemu64",
    "    debug: kasan",
  );
  assert.deepEqual(ids(result.cells), [
    "6.1-td-on-l1smp1-l2smp1-busybox",
    "6.12-td-on-l1smp1-l2smp1-busybox-kasan-l2cpu-qemu64",
  ]);
  // Listing debug makes the same include create a cell instead.
  const listed = plan(
    "name: test",
    "axes:",
    '  kernel: ["6.1", "6.12"]',
    "  debug: [none]",
    "include:",
    '  - kernel: "6.12"',
    "    debug: kasan",
  );
  assert.deepEqual(ids(listed.cells), [
    "6.1-td-on-l1smp1-l2smp1-busybox",
    "6.12-td-on-l1smp1-l2smp1-busybox",
    "6.12-td-on-l1smp1-l2smp1-busybox-kasan",
  ]);
});

Deno.test("expandMatrix() builds cells in product order with typed fields", () => {
  const result = plan(
    "name: test",
    "axes:",
    '  kernel: ["6.1", "6.12"]',
    "  testdevice: [on, off]",
    "  l1_smp: [2]",
    "  guest: [debian-trixie]",
  );
  assert.deepEqual(ids(result.cells), [
    "6.1-td-on-l1smp2-l2smp1-debian-trixie",
    "6.1-td-off-l1smp2-l2smp1-debian-trixie",
    "6.12-td-on-l1smp2-l2smp1-debian-trixie",
    "6.12-td-off-l1smp2-l2smp1-debian-trixie",
  ]);
  const cell = result.cells[1];
  assert.equal(cell.kernel, "6.1");
  assert.equal(cell.testdevice, false);
  assert.equal(cell.l1_smp, 2);
  assert.equal(cell.l2_smp, 1);
  assert.equal(cell.guest, "debian-trixie");
  assert.equal(cell.debug, "none");
  assert.equal(cell.l2_cpu, "host");
  assert.deepEqual(cell.expect, { support: "unsupported", outcome: "pass" });
  assert.deepEqual(result.cells[0].expect, { support: "supported", outcome: "pass" });
  assert.deepEqual(cell.timeouts, { build: 3600, l1_boot: 180, l2_boot: 300, clients: 300 });
  assert.deepEqual(cell.effects, {
    l1_config: [],
    l2_config: [],
    l1_qemu: [],
    l2_qemu: [],
    l1_append: [],
    l2_append: [],
  });
});

Deno.test("expandMatrix() makes ids of [a-z0-9._-] only", () => {
  const result = plan(
    "name: test",
    "axes:",
    '  kernel: ["6.1"]',
    '  l2_cpu: ["host", "EPYC-v4,+svm"]',
    "  net: [Virtio Net]",
    "axis_options:",
    '  net: {"Virtio Net": {}}',
  );
  assert.deepEqual(ids(result.cells), [
    "6.1-td-on-l1smp1-l2smp1-busybox-net-virtio_net",
    "6.1-td-on-l1smp1-l2smp1-busybox-l2cpu-epyc-v4__svm-net-virtio_net",
  ]);
  for (const id of ids(result.cells)) assert.match(id, /^[a-z0-9._-]+$/);
});

Deno.test("expandMatrix() lists dropped combinations with the exclude that dropped them", () => {
  const result = plan(
    "name: test",
    "axes:",
    '  kernel: ["6.1", "6.12"]',
    "  testdevice: [on, off]",
    "exclude:",
    '  - kernel: "6.12"',
    "    testdevice: off",
    "  - testdevice: off", // drops 6.1/off; 6.12/off is already gone
    '    kernel: "6.12"', // never drops anything: the first exclude got there first
  );
  assert.deepEqual(ids(result.cells), [
    "6.1-td-on-l1smp1-l2smp1-busybox",
    "6.1-td-off-l1smp1-l2smp1-busybox",
    "6.12-td-on-l1smp1-l2smp1-busybox",
  ]);
  assert.deepEqual(result.excluded, [{
    axes: { kernel: "6.12", testdevice: false },
    reason: "exclude at matrix/test.yaml:6:5",
  }]);
  assert.ok(
    result.explain.includes(
      "dropped kernel=6.12 testdevice=off: by exclude at matrix/test.yaml:6:5",
    ),
  );
  assert.ok(
    result.explain.some((line) => line.startsWith("note: exclude at matrix/test.yaml:8:5")),
  );
});

Deno.test("expandMatrix() applies expect rules in order, later ones winning", () => {
  const result = plan(
    "name: test",
    "axes:",
    '  kernel: ["6.1", "6.12"]',
    "  testdevice: [on, off]",
    "expect:",
    '  - when: {kernel: "6.12"}', // line 6
    "    outcome: fail",
    "    reason: regression in 6.12",
    '  - when: {kernel: "6.12", testdevice: off}', // line 9
    "    outcome: pass",
    "  - when: {guest: debian-trixie}", // line 11: matches nothing
    "    support: unsupported",
  );
  const expect = Object.fromEntries(result.cells.map((cell) => [cell.id, cell.expect]));
  assert.deepEqual(expect, {
    "6.1-td-on-l1smp1-l2smp1-busybox": { support: "supported", outcome: "pass" },
    "6.1-td-off-l1smp1-l2smp1-busybox": { support: "unsupported", outcome: "pass" },
    "6.12-td-on-l1smp1-l2smp1-busybox": {
      support: "supported",
      outcome: "fail",
      reason: "regression in 6.12",
    },
    "6.12-td-off-l1smp1-l2smp1-busybox": {
      support: "unsupported",
      outcome: "pass",
      reason: "regression in 6.12",
    },
  });
  assert.ok(result.explain.includes(
    "  expect rule at matrix/test.yaml:6:5 sets outcome=fail (regression in 6.12)",
  ));
  assert.ok(result.explain.includes("note: expect rule at matrix/test.yaml:11:5 matches no cell"));
});

Deno.test("expandMatrix() applies timeouts and timeouts_for", () => {
  const result = plan(
    "name: test",
    "axes:",
    '  kernel: ["6.1"]',
    "  debug: [none, kasan]",
    "timeouts:",
    "  l1_boot: 200",
    "timeouts_for:",
    "  - when: {debug: kasan}",
    "    build: 5400",
    "    l2_boot: 600",
  );
  assert.deepEqual(result.cells.map((cell) => cell.timeouts), [
    { build: 3600, l1_boot: 200, l2_boot: 300, clients: 300 },
    { build: 5400, l1_boot: 200, l2_boot: 600, clients: 300 },
  ]);
});

Deno.test("expandMatrix() unions the effects of user axis values", () => {
  const result = plan(
    "name: test",
    "axes:",
    '  kernel: ["6.1"]',
    "  iommu: [on]",
    "  numa: [off, on]",
    "axis_options:",
    "  iommu:",
    "    on:",
    "      l1_config: [configs/iommu.config, configs/common.config]",
    "      l1_qemu: [-device, intel-iommu]",
    "      l1_append: [intel_iommu=on]",
    "  numa:",
    "    off:",
    "    on:",
    "      l1_config: [configs/common.config, configs/numa.config]",
    "      l1_qemu: [-numa, node, -numa, node]",
    "      l2_qemu: [-numa, node]",
    "      l1_append: [vtcio.numa=1]",
    "      l2_append: [numa=on]",
  );
  assert.deepEqual(ids(result.cells), [
    "6.1-td-on-l1smp1-l2smp1-busybox-iommu-on-numa-off",
    "6.1-td-on-l1smp1-l2smp1-busybox-iommu-on-numa-on",
  ]);
  assert.deepEqual(result.cells[0].effects, {
    l1_config: ["configs/iommu.config", "configs/common.config"],
    l2_config: [],
    l1_qemu: ["-device", "intel-iommu"],
    l2_qemu: [],
    l1_append: ["intel_iommu=on"],
    l2_append: [],
  });
  assert.deepEqual(result.cells[1].effects, {
    l1_config: ["configs/iommu.config", "configs/common.config", "configs/numa.config"],
    l2_config: [],
    l1_qemu: ["-device", "intel-iommu", "-numa", "node", "-numa", "node"],
    l2_qemu: ["-numa", "node"],
    l1_append: ["intel_iommu=on", "vtcio.numa=1"],
    l2_append: ["numa=on"],
  });
});

Deno.test("expandMatrix() throws located errors for specs built by hand", () => {
  const spec = parseMatrix(yaml("name: test", "axes:", '  kernel: ["6.1"]'), FILE);
  spec.exclude.push({ values: { kernel: "6.1" }, pos: { line: 9, column: 5 } });
  assert.throws(() => expandMatrix(spec), (error: unknown) => {
    assert.ok(error instanceof MatrixError);
    assert.equal(
      error.message,
      `${FILE}:9:5: Matrix has no cells: this exclude drops every ` +
        "combination (an exclude drops every combination that has all of its values)",
    );
    return true;
  });
});

// --- Selection --------------------------------------------------------------------------------

const SELECTION = plan(
  "name: test",
  "axes:",
  '  kernel: ["6.1", "6.12"]',
  "  testdevice: [on, off]",
  "  guest: [busybox, debian-bookworm]",
  "  debug: [none]",
  "include:",
  '  - kernel: "6.1"',
  "    testdevice: on",
  "    guest: busybox",
  "    debug: kasan",
).cells;

Deno.test("selectCells() keeps everything without options", () => {
  assert.deepEqual(selectCells(SELECTION), SELECTION);
  assert.deepEqual(selectCells(SELECTION, { only: "" }), SELECTION);
});

Deno.test("selectCells() filters with key=value terms: or within a key, and across keys", () => {
  assert.deepEqual(ids(selectCells(SELECTION, { only: "kernel=6.12,testdevice=off" })), [
    "6.12-td-off-l1smp1-l2smp1-busybox",
    "6.12-td-off-l1smp1-l2smp1-debian-bookworm",
  ]);
  assert.deepEqual(
    ids(selectCells(SELECTION, { only: "guest=debian-bookworm, testdevice=true, kernel=6.1" })),
    ["6.1-td-on-l1smp1-l2smp1-debian-bookworm"],
  );
  assert.equal(selectCells(SELECTION, { only: "kernel=6.1,kernel=6.12" }).length, 9);
  assert.deepEqual(ids(selectCells(SELECTION, { only: "debug=kasan" })), [
    "6.1-td-on-l1smp1-l2smp1-busybox-kasan",
  ]);
  assert.deepEqual(ids(selectCells(SELECTION, { only: "Guest=BusyBox,TestDevice=Off" })), [
    "6.1-td-off-l1smp1-l2smp1-busybox",
    "6.12-td-off-l1smp1-l2smp1-busybox",
  ]);
});

Deno.test("selectCells() filters with id substrings (or) and exact ids", () => {
  assert.deepEqual(ids(selectCells(SELECTION, { only: "kasan,6.12-td-off" })), [
    "6.12-td-off-l1smp1-l2smp1-busybox",
    "6.12-td-off-l1smp1-l2smp1-debian-bookworm",
    "6.1-td-on-l1smp1-l2smp1-busybox-kasan",
  ]);
  // A substring also matches longer ids; id= does not.
  assert.equal(selectCells(SELECTION, { only: "6.1-td-on-l1smp1-l2smp1-busybox" }).length, 2);
  assert.deepEqual(ids(selectCells(SELECTION, { only: "id=6.1-td-on-l1smp1-l2smp1-busybox" })), [
    "6.1-td-on-l1smp1-l2smp1-busybox",
  ]);
  // Substrings and key terms must both hold.
  assert.deepEqual(ids(selectCells(SELECTION, { only: "bookworm,kernel=6.1" })), [
    "6.1-td-on-l1smp1-l2smp1-debian-bookworm",
    "6.1-td-off-l1smp1-l2smp1-debian-bookworm",
  ]);
});

Deno.test("selectCells() rejects filters that name unknown axes or match nothing", () => {
  const reject = (only: string, message: string) =>
    assert.throws(() => selectCells(SELECTION, { only }), (error: unknown) => {
      assert.ok(error instanceof SelectionError);
      assert.equal(error.message, message);
      assert.equal(error.input, only);
      return true;
    });
  reject("kernal=6.1", 'Unknown axis "kernal" in filter "kernal=6.1" (did you mean "kernel"?)');
  reject("kernel=6.2", 'No cell has kernel=6.2 (filter "kernel=6.2") (did you mean "6.1"?)');
  reject(
    "guest=alpine",
    'No cell has guest=alpine (filter "guest=alpine") (values of guest: busybox, debian-bookworm)',
  );
  reject("trixie", 'No cell id contains "trixie" (filter "trixie")');
  reject(
    "kernel=6.1,,debug=kasan",
    'Empty term in filter "kernel=6.1,,debug=kasan" ' +
      "(remove the extra comma)",
  );
  reject(
    "kernel=",
    'Incomplete term "kernel=" in filter "kernel=" (write key=value, e.g. ' +
      "kernel=6.12)",
  );
});

Deno.test("parseOnly() splits keyed terms from substrings", () => {
  const filter = parseOnly(" kernel=6.1 , kernel = 6.12,testdevice=false, KASAN ");
  assert.deepEqual([...filter.keys], [["kernel", ["6.1", "6.12"]], ["testdevice", ["off"]]]);
  assert.deepEqual(filter.substrings, ["kasan"]);
  assert.equal(formatAxisValue("testdevice", true), "on");
  assert.equal(formatAxisValue("l1_smp", 2), "2");
});

Deno.test("parseShard() reads K/N and rejects anything else", () => {
  assert.deepEqual(parseShard("2/4"), { index: 2, count: 4 });
  assert.deepEqual(parseShard(" 1 / 1 "), { index: 1, count: 1 });
  const reject = (text: string, message: string) =>
    assert.throws(() => parseShard(text), (error: unknown) => {
      assert.ok(error instanceof SelectionError);
      assert.equal(error.message, message);
      return true;
    });
  reject("2", 'Invalid shard "2" (write K/N, e.g. "2/4")');
  reject("2/4/1", 'Invalid shard "2/4/1" (write K/N, e.g. "2/4")');
  reject("a/b", 'Invalid shard "a/b" (write K/N, e.g. "2/4")');
  reject("-1/4", 'Invalid shard "-1/4" (write K/N, e.g. "2/4")');
  reject("0/4", 'Invalid shard "0/4": the index must be between 1 and 4');
  reject("5/4", 'Invalid shard "5/4": the index must be between 1 and 4');
  reject(
    "1/0",
    'Invalid shard "1/0": the shard count must be at least 1 (write K/N, e.g. "2/4")',
  );
  reject(
    "1/99999999999999999999",
    'Invalid shard "1/99999999999999999999": the shard count must be at least 1 ' +
      '(write K/N, e.g. "2/4")',
  );
});

Deno.test("selectCells() shards cover every selected cell exactly once, in order", () => {
  for (const only of [undefined, "kernel=6.1", "busybox"]) {
    const selected = selectCells(SELECTION, { only });
    for (let count = 1; count <= 12; count++) {
      const shards = Array.from(
        { length: count },
        (_, i) => ids(selectCells(SELECTION, { only, shard: { index: i + 1, count } })),
      );
      assert.deepEqual(shards.flat().sort(), ids(selected).sort(), `${only} ${count}`);
      for (const shard of shards) {
        const positions = shard.map((id) => ids(selected).indexOf(id));
        assert.deepEqual(positions, [...positions].sort((a, b) => a - b));
      }
    }
  }
  assert.deepEqual(ids(selectCells(SELECTION, { shard: parseShard("2/4") })), [
    SELECTION[1].id,
    SELECTION[5].id,
  ]);
  assert.throws(
    () => selectCells(SELECTION, { shard: { index: 3, count: 2 } }),
    SelectionError,
  );
});
