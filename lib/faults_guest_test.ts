/**
 * Hostile guests and crashing parts, through the production path: runCells() with the real
 * runCell(), the real images and the real boot(), only QEMU and the kernel builds faked (see
 * lib/testdata/fake_guest.ts). Each case must end in its outcome with its evidence, every result
 * must reach run.json, and no fake QEMU process may outlive the run.
 */
import { assertEquals, assertMatch } from "./test_assert.ts";
import { runCells } from "./runner.ts";
import { runCell } from "./cell_run.ts";
import { readRunRecord, RunStore } from "./results.ts";
import { MultiReporter } from "./reporter.ts";
import { JsonReporter } from "./reporter_json.ts";
import { liveGroups } from "./proc.ts";
import type { CellResult } from "./types.ts";
import { fakeQemu, faultContext, leftovers, testCell } from "./testdata/fake_guest.ts";

const L1_PANIC = [
  '[    0.912000] VFS: Cannot open root device "(null)" or unknown-block(0,0): error -6',
  "[    0.912400] Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)",
  "[    0.912800] CPU: 0 PID: 1 Comm: swapper/0 Not tainted 6.1.0-fake #1",
  "[    0.913000] Call Trace:",
  "[    0.913100]  <TASK>",
  "[    0.913200]  dump_stack_lvl+0x45/0x5e",
  "[    0.913300]  panic+0x118/0x2f0",
  "[    0.913400]  mount_block_root+0x1d3/0x1e2",
  "[    0.913500]  </TASK>",
  "[    0.913600] Kernel Offset: disabled",
  "[    0.913700] ---[ end Kernel panic - not syncing: VFS: Unable to mount root fs on " +
  "unknown-block(0,0) ]---",
];

const L2_OOPS = [
  "[    3.401300] BUG: kernel NULL pointer dereference, address: 0000000000000018",
  "[    3.401844] #PF: supervisor read access in kernel mode",
  "[    3.402771] Oops: 0000 [#1] PREEMPT SMP NOPTI",
  "[    3.403105] CPU: 0 PID: 97 Comm: tcio-guest-suit Not tainted 6.1.0-fake #1",
  "[    3.404269] RIP: 0010:ktciodd_read+0x3c/0x1b0 [ktciodd]",
  "[    3.406460] Call Trace:",
  "[    3.406644]  <TASK>",
  "[    3.406803]  vfs_read+0xa8/0x2b0",
  "[    3.407902]  </TASK>",
  "[    3.408563] ---[ end trace 0000000000000000 ]---",
  "[    3.409720] Kernel panic - not syncing: Fatal exception",
  "[    3.410552] ---[ end Kernel panic - not syncing: Fatal exception ]---",
];

const echo = (lines: string[]) => lines.map((l) => `echo '${l}'`).join("\n");

/** What each cell's fake QEMU does, by cell id. */
const CASES = `
case "$cell" in
  pass | after-build-failure) pass ;;
  hang-l2)
    # L1 starts L2, which never says a word; QEMU's child hangs too (the group must go).
    l1_init; host_suite; nap 300 & hang ;;
  silent) hang ;;
  qemu-exits)
    echo "qemu-system-x86_64: -virtfs local,path=/,mount_tag=host: cannot initialize fsdev 'fsdev0'" >&2
    exit 1 ;;
  l1-panic)
${echo(L1_PANIC)}
    exit 0 ;;
  l2-panic)
    l1_init; host_suite; l2_init
    printf '%s\\n' ${L2_OOPS.map((l) => `'${l}'`).join(" ")} | l2
    nap 0.2
    echo "vtcio-l1: l2 exited status=0"; echo "vtcio-l1: done status=0" ;;
  *) echo "fake qemu: no case for cell '$cell'" >&2; exit 3 ;;
esac
`;

Deno.test("faults: hostile guests and a failing build end in their outcomes with evidence", async () => {
  const root = await Deno.makeTempDir({ prefix: "vtcio-faults-guest-" });
  try {
    const qemu = await fakeQemu(root, CASES);
    const short = { build: 60, l1_boot: 1, l2_boot: 1, clients: 1 };
    const cells = [
      testCell("pass"),
      testCell("hang-l2", { timeouts: short }),
      testCell("silent", { timeouts: short }),
      testCell("qemu-exits"),
      testCell("l1-panic"),
      testCell("l2-panic"),
      testCell("build-fails", { kernel: "6.6" }),
      testCell("after-build-failure"),
    ];
    const store = await RunStore.create(`${root}/results`, {
      matrix: { file: "faults.yaml", name: "faults", sha256: "00" },
      host: {},
      versions: {},
      planned: cells.map((c) => c.id),
      argv: [],
    });
    const ctx = await faultContext(root, qemu, { failKernels: ["6.6"], runDir: store.dir });
    const reporterErrors: string[] = [];
    const reporter = new MultiReporter([new JsonReporter(store)], {
      onError: (f) => reporterErrors.push(String(f.error)),
    });
    const summary = await runCells({
      store,
      cells,
      ctx,
      reporter,
      runCell,
      jobs: 2,
      retries: 0,
      signal: new AbortController().signal,
    });
    const by = new Map<string, CellResult>(summary.results.map((r) => [r.id, r]));
    const get = (id: string): CellResult => {
      const r = by.get(id);
      if (!r) throw new Error(`No result for ${id}`);
      return r;
    };

    assertEquals(get("pass").outcome, "pass", get("pass").reason);

    const hang = get("hang-l2");
    assertEquals([hang.outcome, hang.phase, hang.reason], [
      "timeout",
      "l2_boot",
      "Timed out in l2_boot after 1 s",
    ]);

    const silent = get("silent");
    assertEquals([silent.outcome, silent.phase], ["timeout", "l1_boot"]);
    assertEquals(await Deno.readTextFile(`${store.dir}/${silent.logs["l1-console"]}`), "");

    const exits = get("qemu-exits");
    assertEquals(exits.outcome, "error");
    assertMatch(exits.reason, /^QEMU exited with status 1 in l1_boot: .*cannot initialize fsdev/);
    assertMatch(
      await Deno.readTextFile(`${store.dir}/${exits.logs["l1-console"]}`),
      /cannot initialize fsdev 'fsdev0'/,
    );

    const l1 = get("l1-panic");
    assertEquals([l1.outcome, l1.phase], ["crash", "l1_boot"]);
    assertMatch(l1.reason, /^Kernel panic on the L1 console: Kernel panic - not syncing: VFS/);
    assertEquals(l1.crash?.[0], "Kernel panic on the L1 console:");
    assertEquals(l1.crash?.slice(1).some((l) => l.includes("mount_block_root+0x1d3")), true);

    const l2 = get("l2-panic");
    assertEquals([l2.outcome, l2.phase], ["crash", "clients"]);
    assertMatch(l2.reason, /^Oops on the L2 console: BUG: kernel NULL pointer dereference/);
    assertEquals(l2.crash?.[0], "Oops on the L2 console:");
    assertEquals(l2.crash?.includes(L2_OOPS[4]), true, "the RIP line is in the trace");
    assertEquals(
      l2.crash?.includes("Kernel panic on the L2 console:"),
      true,
      "the panic that followed is reported too",
    );
    assertMatch(
      await Deno.readTextFile(`${store.dir}/${l2.logs["l2-console"]}`),
      /\] \[ {4}3\.401300\] BUG: kernel NULL pointer dereference/,
    );

    const build = get("build-fails");
    assertEquals([build.outcome, build.phase], ["build-error", "build"]);
    assertMatch(build.reason, /^Build failed: Building kernel 6\.6 \(fake\) failed/);
    assertEquals(build.logs.build, "cells/build-fails/build.log");
    assertMatch(await Deno.readTextFile(`${store.dir}/${build.logs.build}`), /error: boom/);
    assertMatch(
      await Deno.readTextFile(`${store.dir}/${build.logs["build-error"]}`),
      /error: boom/,
    );
    assertEquals(
      get("after-build-failure").outcome,
      "pass",
      "cells after a failed build still run",
    );

    // Every result reached run.json, once, and nothing is left running.
    assertEquals(reporterErrors, []);
    const record = await readRunRecord(store.runJsonPath);
    assertEquals(record.status, "complete");
    assertEquals(record.cells.map((c) => c.id).sort(), cells.map((c) => c.id).sort());
    assertEquals(liveGroups(), 0);
    assertEquals(await leftovers(root), []);
  } finally {
    await Deno.remove(root, { recursive: true }).catch((e) => console.error("cleanup", e));
  }
});

Deno.test("faults: a debug cell whose L1 lost KASAN to an unmet dependency is a build error", async () => {
  const root = await Deno.makeTempDir({ prefix: "vtcio-faults-debug-" });
  try {
    const qemu = await fakeQemu(root, "pass");
    const ctx = await faultContext(root, qemu, {
      l1Dropped: ["CONFIG_KASAN=y (final .config: not set)", "CONFIG_X=y (final .config: not set)"],
    });
    const plain = await runCell(testCell("plain"), `${root}/plain`, ctx);
    assertEquals(plain.outcome, "pass", "a dropped option outside a debug fragment is only a fact");
    const r = await runCell(testCell("kasan", { debug: "kasan" }), `${root}/kasan`, ctx);
    assertEquals([r.outcome, r.phase], ["build-error", "build"]);
    assertMatch(
      r.reason,
      /^Build failed: debug: kasan needs options the L1 \.config lacks: CONFIG_KASAN=y/,
    );
    assertEquals(liveGroups(), 0);
  } finally {
    await Deno.remove(root, { recursive: true }).catch((e) => console.error("cleanup", e));
  }
});
