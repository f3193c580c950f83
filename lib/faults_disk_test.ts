/**
 * A full disk under the results directory (a 256 KiB tmpfs): a guest floods its console until the
 * console log cannot be written. The run must stop QEMU at once, report an infrastructure error,
 * start no further cell, keep run.json readable with what it held before, and resume cleanly
 * once there is room again. Needs root (mount); skipped otherwise.
 */
import { assertEquals, assertMatch } from "./test_assert.ts";
import { runCells } from "./runner.ts";
import { runCell } from "./cell_run.ts";
import { readRunRecord, RunStore } from "./results.ts";
import { MultiReporter } from "./reporter.ts";
import { JsonReporter } from "./reporter_json.ts";
import { JunitReporter } from "./reporter_junit.ts";
import { liveGroups } from "./proc.ts";
import { fakeQemu, faultContext, leftovers, testCell } from "./testdata/fake_guest.ts";

const isRoot = Deno.uid() === 0;

async function sh(...args: string[]): Promise<void> {
  const r = await new Deno.Command(args[0], { args: args.slice(1), stderr: "piped" }).output();
  if (!r.success) throw new Error(`${args.join(" ")}: ${new TextDecoder().decode(r.stderr)}`);
}

Deno.test({
  name: "faults: a full results disk stops the run with an error and keeps run.json",
  ignore: !isRoot,
  fn: async () => {
    const root = await Deno.makeTempDir({ prefix: "vtcio-faults-disk-" });
    const results = `${root}/results`;
    await Deno.mkdir(results);
    await sh("mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", results);
    try {
      const qemu = await fakeQemu(
        root,
        `case "$cell" in
          flood)
            l1_init
            head -c 4000000 /dev/zero | tr '\\0' x | fold -w 99
            hang ;;
          *) pass ;;
        esac`,
      );
      const cells = [testCell("first"), testCell("flood"), testCell("never-started")];
      const store = await RunStore.create(results, {
        matrix: { file: "faults.yaml", name: "faults", sha256: "00" },
        host: {},
        versions: {},
        planned: cells.map((c) => c.id),
        argv: [],
      });
      const reporterErrors: string[] = [];
      const reporter = new MultiReporter(
        [new JsonReporter(store), new JunitReporter(store.junitPath)],
        { onError: (f) => reporterErrors.push(`${f.reporter}.${f.hook}: ${f.error}`) },
      );
      const t0 = performance.now();
      const summary = await runCells({
        store,
        cells,
        ctx: await faultContext(root, qemu, { runDir: store.dir }),
        reporter,
        runCell,
        jobs: 1,
        retries: 1,
        signal: new AbortController().signal,
      });
      const seconds = (performance.now() - t0) / 1000;

      // The flood was stopped when the disk filled, not at its 10 s deadline, and not retried.
      assertEquals(seconds < 8, true, `the run took ${seconds} s`);
      assertEquals(summary.status, "interrupted");
      assertEquals(summary.results.map((r) => [r.id, r.outcome]), [
        ["first", "pass"],
        ["flood", "error"],
      ]);
      const flood = summary.results[1];
      assertMatch(
        flood.reason,
        /^Infrastructure error: Cannot write \S+\/cells\/flood\/l1-console\.log: No space left on device/,
      );
      assertEquals([flood.phase, flood.attempts], ["clients", 1]);
      assertEquals(summary.notRun, ["never-started"]);
      assertEquals(
        reporterErrors.some((e) => e.startsWith("JsonReporter.") && /No space left/.test(e)),
        true,
        reporterErrors.join("\n"),
      );
      assertEquals(liveGroups(), 0);
      assertEquals(await leftovers(root), []);

      // run.json is whole, with the cell finished before the disk filled.
      const record = await readRunRecord(store.runJsonPath);
      assertEquals(record.cells.map((c) => c.id), ["first"]);
      assertEquals(record.cells[0].outcome, "pass");

      // Room again: resume runs exactly the cells without a result, each recorded once.
      await Deno.remove(`${store.dir}/cells/flood`, { recursive: true });
      const resumed = await RunStore.open(results, store.runId);
      assertEquals(resumed.pending(), ["flood", "never-started"]);
      await Deno.mkdir(`${root}/calm`);
      const calm = await fakeQemu(`${root}/calm`, "pass");
      const after = await runCells({
        store: resumed,
        cells: cells.filter((c) => resumed.pending().includes(c.id)),
        ctx: await faultContext(root, calm, { runDir: resumed.dir }),
        reporter: new MultiReporter([new JsonReporter(resumed)]),
        runCell,
        jobs: 1,
        retries: 0,
        signal: new AbortController().signal,
      });
      assertEquals(after.status, "complete");
      const final = await readRunRecord(resumed.runJsonPath);
      assertEquals(final.status, "complete");
      assertEquals(final.cells.map((c) => [c.id, c.outcome]), [
        ["first", "pass"],
        ["flood", "pass"],
        ["never-started", "pass"],
      ]);
    } finally {
      await sh("umount", results);
      await Deno.remove(root, { recursive: true });
    }
  },
});
