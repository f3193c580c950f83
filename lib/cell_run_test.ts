import assert from "node:assert/strict";
import { runCell } from "./cell_run.ts";
import { faultContext, testCell } from "./testdata/fake_guest.ts";

Deno.test("runCell() skips a cell whose kernel has no source, with the reason the run knows", async () => {
  const root = await Deno.makeTempDir({ prefix: "vtcio-cell-run-" });
  try {
    const ctx = await faultContext(root, "/nonexistent/qemu");
    const cell = testCell("7.2-on", { kernel: "7.2", axes: { kernel: "7.2", testdevice: true } });
    const why = "Fetching linux-source-7.2 from sid failed (E: Failed to fetch InRelease); fix " +
      "that and run ./vtcio setup --kernel 7.2 (docs/troubleshooting.md#kernel-source-72-optional)";
    const fetched = await runCell(cell, `${root}/a`, { ...ctx, sourceProblems: { "7.2": why } });
    assert.equal(fetched.outcome, "skip");
    assert.equal(fetched.reason, why);

    const plain = await runCell(cell, `${root}/b`, ctx);
    assert.equal(plain.outcome, "skip");
    assert.equal(plain.reason, "No linux-source tarball for kernel 7.2 on this host");
    const saved = JSON.parse(await Deno.readTextFile(`${root}/b/result.json`));
    assert.equal(saved.reason, plain.reason);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
