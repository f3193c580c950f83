/**
 * A corpus of bad matrix files (lib/testdata/bad-matrices/), read as the CLI reads them
 * (decodeMatrix, then parseMatrix): each must be refused at its exact place with its message, in
 * bounded time, never with a crash. Files too big to commit (over 1 MiB, very deep) are made
 * here. One file is not an error but a note: see the table.
 */
import { assertEquals } from "./test_assert.ts";
import assert from "node:assert/strict";
import { decodeMatrix, MAX_MATRIX_BYTES, MAX_MATRIX_NESTING, parseMatrix } from "./matrix_parse.ts";
import { MatrixError } from "./matrix_error.ts";
import { expandMatrix } from "./plan.ts";

const DIR = "lib/testdata/bad-matrices";
const repo = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

/** Where each file must be refused (line, column) and what the message must say. */
const EXPECTED: Record<string, { at: [number, number]; says: string } | { note: string }> = {
  // YAML syntax
  "syntax-unclosed-flow.yaml": {
    at: [4, 3],
    says: "YAML syntax error: Flow sequence in block collection must be sufficiently indented " +
      "and end with a ]",
  },
  "syntax-unclosed-quote.yaml": { at: [1, 22], says: 'YAML syntax error: Missing closing "quote' },
  "syntax-bad-indent.yaml": {
    at: [4, 1],
    says: "YAML syntax error: All mapping items must start at the same column",
  },
  "syntax-tab-indent.yaml": {
    at: [3, 1],
    says: "YAML syntax error: Tabs are not allowed as indentation",
  },
  "syntax-two-documents.yaml": {
    at: [4, 1],
    says: "YAML syntax error: Source contains multiple documents",
  },
  "syntax-nested-mapping.yaml": {
    at: [1, 7],
    says: "YAML syntax error: Nested mappings are not allowed in compact mappings",
  },
  // Bytes and size
  "not-utf8.yaml": {
    at: [1, 10],
    says: "Matrix file is not valid UTF-8 (byte 0xE9) (save it as UTF-8)",
  },
  "control-character.yaml": { at: [4, 19], says: "Control character U+0007 in the matrix file" },
  "anchor-bomb.yaml": {
    at: [4, 10],
    says: "YAML aliases expand too far (over 1000 copies) " +
      "(write the values out instead of nesting aliases)",
  },
  "deep-nesting.yaml": { at: [4, 45], says: "Matrix file nests maps and lists more than 32 deep" },
  // Empty
  "empty.yaml": { at: [1, 1], says: "Matrix file is empty" },
  "comments-only.yaml": { at: [1, 1], says: "Matrix file is empty" },
  "exclude-everything.yaml": {
    at: [6, 5],
    says: "Matrix has no cells: this exclude drops every combination",
  },
  // Unknown names and typos
  "unknown-axis.yaml": {
    at: [4, 3],
    says: 'Unknown axis "iommu" (define the values of a user axis under axis_options.iommu)',
  },
  "misspelt-axis.yaml": { at: [3, 3], says: 'Unknown axis "kernal" (did you mean "kernel"?)' },
  "misspelt-top-level-key.yaml": {
    at: [5, 1],
    says: 'Unknown top-level key "exlude" (did you mean "exclude"?)',
  },
  "misspelt-rule-key.yaml": {
    at: [8, 5],
    says: 'Unknown key "outcom" in expect[0] (did you mean "outcome"?)',
  },
  "misspelt-value.yaml": { at: [4, 11], says: 'found "busybx" (did you mean "busybox"?)' },
  "include-unknown-axis.yaml": {
    at: [6, 5],
    says: 'Unknown axis "gest" (did you mean "guest"?)',
  },
  // Wrong types and values
  "wrong-type-smp.yaml": {
    at: [4, 15],
    says: 'Expected an integer from 1 to 64 for axes.l1_smp[1], found "two"',
  },
  "wrong-type-kernel-number.yaml": {
    at: [3, 19],
    says: 'found 6.1 (write "6.10" in quotes: YAML reads 6.10 as the number 6.1)',
  },
  "wrong-type-axes-list.yaml": { at: [3, 3], says: "Expected a map for axes, found a list" },
  "wrong-type-timeout.yaml": {
    at: [5, 12],
    says: "Expected a positive number of seconds for timeouts.l1_boot, found -5",
  },
  "top-level-list.yaml": { at: [1, 1], says: "Expected a map for the top level, found a list" },
  "config-path-escapes.yaml": {
    at: [8, 19],
    says: 'Config path "../../etc/iommu.config" must stay inside the repository',
  },
  "too-many-combinations.yaml": {
    at: [2, 1],
    says: "Matrix has 18432 combinations, more than the limit of 16384",
  },
  // Duplicates
  "duplicate-key.yaml": {
    at: [5, 3],
    says: 'Duplicate key "kernel" (first given at line 3)',
  },
  "duplicate-axis-value.yaml": { at: [4, 20], says: "Duplicate value true in axis testdevice" },
  // Include and exclude that match nothing. An include that matches no combination becomes a
  // cell of its own (GitHub's rule): an error only when that cell would have no kernel. An
  // exclude that can never match (a value its axis does not take) is an error; one that is
  // valid but finds its combinations already dropped by an earlier exclude is a note.
  "include-new-cell-without-kernel.yaml": {
    at: [8, 5],
    says: "Include entry matches no combination and has no kernel",
  },
  "exclude-impossible-value.yaml": {
    at: [6, 13],
    says: 'Exclude value "6.6" is not a value of axis kernel, so it matches nothing ' +
      '(did you mean "6.1"?)',
  },
  "note-exclude-drops-nothing.yaml": {
    note: "note: exclude at lib/testdata/bad-matrices/note-exclude-drops-nothing.yaml:9:5 " +
      "drops nothing (earlier excludes already dropped what it matches)",
  },
};

/** Reads a matrix as the CLI does; returns the error, or the plan's notes. */
function load(bytes: Uint8Array, file: string): MatrixError | string[] {
  try {
    const plan = expandMatrix(parseMatrix(decodeMatrix(bytes, file), file));
    return plan.explain.filter((l) => l.startsWith("note:"));
  } catch (error) {
    if (error instanceof MatrixError) return error;
    throw error;
  }
}

function expectError(
  result: MatrixError | string[],
  file: string,
  at: [number, number],
  says: string,
): void {
  if (!(result instanceof MatrixError)) throw new Error(`${file} was accepted`);
  const where = `${file}:${at[0]}:${at[1]}: `;
  assert.ok(
    result.message.startsWith(where) && result.message.includes(says),
    `${file}: expected ${where}...${says}...\n   got ${result.message}`,
  );
  assertEquals(result.message.split("\n").length, 1, `${file}: one problem`);
}

Deno.test("bad matrices: every file of the corpus is refused where and as the table says", async () => {
  const names = [...Deno.readDirSync(`${repo}/${DIR}`)].map((e) => e.name).sort();
  assertEquals(names, Object.keys(EXPECTED).sort(), "the table and the corpus list the same files");
  for (const name of names) {
    const file = `${DIR}/${name}`;
    const t0 = performance.now();
    const result = load(await Deno.readFile(`${repo}/${file}`), file);
    const ms = performance.now() - t0;
    assert.ok(ms < 2000, `${name} took ${ms} ms`);
    const want = EXPECTED[name];
    if ("note" in want) {
      if (result instanceof MatrixError) throw new Error(`${name}: ${result.message}`);
      assertEquals(result, [want.note]);
    } else {
      expectError(result, file, want.at, want.says);
    }
  }
});

const HEAD = 'name: big\naxes:\n  kernel: ["6.1"]\n';

Deno.test("bad matrices: a file over 1 MiB is refused before it is decoded or parsed", () => {
  const big = new TextEncoder().encode(HEAD + "#".repeat(MAX_MATRIX_BYTES));
  const t0 = performance.now();
  expectError(load(big, "big.yaml"), "big.yaml", [1, 1], "Matrix file is too large (over 1 MiB)");
  // Even when it is not UTF-8: size comes first.
  const junk = new Uint8Array(MAX_MATRIX_BYTES + 1).fill(0xff);
  expectError(load(junk, "junk.yaml"), "junk.yaml", [1, 1], "Matrix file is too large");
  assert.ok(performance.now() - t0 < 1000);
  // Exactly 1 MiB is read.
  const fits = HEAD + "#".repeat(MAX_MATRIX_BYTES - HEAD.length);
  assertEquals(load(new TextEncoder().encode(fits), "fits.yaml"), []);
});

Deno.test("bad matrices: nesting deep enough to overflow the YAML composer is refused in place", () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  // Deep flow lists, deep block lists on one line, deep flow maps: 100000 levels each.
  const cases: [string, string, [number, number]][] = [
    ["flow", `${HEAD}description: ${"[".repeat(100_000)}${"]".repeat(100_000)}\n`, [4, 45]],
    ["block", `${HEAD}description:\n  ${"- ".repeat(100_000)}x\n`, [5, 65]],
    ["map", `${HEAD}description: ${"{a: ".repeat(100_000)}1${"}".repeat(100_000)}\n`, [4, 138]],
  ];
  for (const [kind, text, at] of cases) {
    const t0 = performance.now();
    expectError(load(enc(text), `${kind}.yaml`), `${kind}.yaml`, at, "more than 32 deep");
    assert.ok(performance.now() - t0 < 3000, kind);
  }
  // The limit itself is fine.
  const ok = `${HEAD}description: ${"[".repeat(MAX_MATRIX_NESTING - 1)}${
    "]".repeat(MAX_MATRIX_NESTING - 1)
  }\n`;
  expectError(load(enc(ok), "ok.yaml"), "ok.yaml", [4, 14], "Expected a string for description");
});

Deno.test("bad matrices: a UTF-8 byte order mark is fine, a broken sequence after it is placed", () => {
  const bom = [0xef, 0xbb, 0xbf];
  const good = new Uint8Array([...bom, ...new TextEncoder().encode(HEAD)]);
  assertEquals(load(good, "bom.yaml"), []);
  const text = new TextEncoder().encode('name: "d\u00e9j');
  const bad = new Uint8Array([...bom, ...text, 0xc3, 0x28, ...new TextEncoder().encode('"\n')]);
  expectError(load(bad, "bom.yaml"), "bom.yaml", [1, 11], "not valid UTF-8 (byte 0xC3)");
});

Deno.test("bad matrices: the CLI prints the located message and exits 2, without a stack", async () => {
  for (
    const [name, says] of [["not-utf8.yaml", "not valid UTF-8"], ["anchor-bomb.yaml", "alias"]]
  ) {
    const file = `${DIR}/${name}`;
    const r = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", "lib/cli.ts", "matrix", "plan", file],
      cwd: repo,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const err = new TextDecoder().decode(r.stderr);
    assertEquals(r.code, 2, err);
    const want = EXPECTED[name];
    assert.ok("at" in want);
    assertEquals(err.split("\n").filter((l) => l !== "").length, 1, err);
    assert.ok(err.startsWith(`vtcio: ${file}:${want.at[0]}:${want.at[1]}: `), err);
    assert.ok(err.includes(says), err);
  }
});
