import { assertEquals, assertMatch } from "./test_assert.ts";
import { benchCell, editDriver, smokeCells } from "./bench_cell.ts";

const repo = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

Deno.test("bench_cell: the smoke matrix has a TESTDEVICE on and an off cell", async () => {
  const { on, off } = await smokeCells(repo);
  assertEquals([on.testdevice, off.testdevice, on.kernel], [true, false, off.kernel]);
});

Deno.test("bench_cell: each driver edit replaces the last, so the driver changes but stays one file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "vtcio-edit-" });
  try {
    const path = `${dir}/kernel/drivers/misc/tciodd/ktciodd.c`;
    await Deno.mkdir(`${dir}/kernel/drivers/misc/tciodd`, { recursive: true });
    await Deno.copyFile(`${repo}/kernel/drivers/misc/tciodd/ktciodd.c`, path);
    const original = await Deno.readTextFile(path);
    await editDriver(dir, "one");
    await editDriver(dir, "two");
    const edited = await Deno.readTextFile(path);
    assertMatch(edited, /static const char ktciodd_bench\[\] __used = "two";\n$/);
    assertEquals(edited.match(/ktciodd_bench/g)?.length, 1);
    assertEquals(
      edited,
      `${original.trimEnd()}\n\nstatic const char ktciodd_bench[] __used = "two";\n`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bench_cell: the quick mode boots nothing when the smoke kernels are not cached", async () => {
  const dir = await Deno.makeTempDir({ prefix: "vtcio-quick-" });
  try {
    await Deno.writeTextFile(`${dir}/linux.tar.xz`, "");
    const { on } = await smokeCells(repo);
    const r = await benchCell({
      repo,
      cache: `${dir}/cache`,
      tarballs: { [on.kernel]: `${dir}/linux.tar.xz` },
      quick: true,
      repeats: 1,
      incrementalRepeats: 0,
      results: `${dir}/results`,
      log: () => {},
    });
    assertEquals(r.runs, []);
    assertMatch(r.skipped[0], /warm cell: the kernels of .* are not in .*cache/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
