/**
 * The runner killed with SIGKILL in the middle of a run (no handler runs: the OOM killer, a CI
 * timeout, `kill -9`): the finished cells must stay in a readable run.json, the QEMU of the
 * cell in progress must not outlive the runner, and `--resume` (RunStore.open + pending) must
 * run exactly the unfinished cells, recording every cell once.
 */
import { assertEquals } from "./test_assert.ts";
import { newRunId, readRunRecord, type RunRecord, RunStore } from "./results.ts";
import { fakeQemu, leftovers, waitGone } from "./testdata/fake_guest.ts";

const driver = new URL("./testdata/sigkill_driver.ts", import.meta.url).pathname;

function start(root: string, runId: string, qemu: string, mode: "create" | "resume") {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", driver, root, runId, qemu, mode],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

async function record(path: string): Promise<RunRecord | undefined> {
  return await readRunRecord(path).catch(() => undefined);
}

Deno.test("faults: a runner killed with SIGKILL leaves no QEMU behind and resumes", async () => {
  const root = await Deno.makeTempDir({ prefix: "vtcio-faults-kill-" });
  try {
    // First session: cell a passes, cell b's guest hangs until the runner is killed.
    await Deno.mkdir(`${root}/first`);
    const hanging = await fakeQemu(
      `${root}/first`,
      `case "$cell" in b) l1_init; nap 300 & hang ;; *) pass ;; esac`,
    );
    const runId = newRunId();
    const runJson = `${root}/results/${runId}/run.json`;
    const first = start(root, runId, hanging, "create");
    for (let i = 0;; i++) {
      const done = (await record(runJson))?.cells.map((c) => c.id) ?? [];
      if (done.includes("a") && (await leftovers(`${root}/first`)).length >= 2) break;
      if (i > 300) throw new Error("Cell a never finished or cell b never started");
      await new Promise((r) => setTimeout(r, 100));
    }
    first.kill("SIGKILL");
    const status = await first.status;
    assertEquals(status.signal, "SIGKILL");
    await first.stdout.cancel();
    await first.stderr.cancel();

    assertEquals(await waitGone(`${root}/first`), [], "the hung cell's QEMU outlived the runner");
    const killed = await readRunRecord(runJson);
    assertEquals(killed.status, "running");
    assertEquals(killed.cells.map((c) => [c.id, c.outcome]), [["a", "pass"]]);
    const reopened = await RunStore.open(`${root}/results`, runId, ["check"]);
    assertEquals(reopened.pending(), ["b", "c"]);

    // Second session: --resume, guests behave.
    await Deno.mkdir(`${root}/second`);
    const calm = await fakeQemu(`${root}/second`, "pass");
    const second = await start(root, runId, calm, "resume").output();
    const out = new TextDecoder().decode(second.stdout);
    assertEquals(
      [second.code, out.trim()],
      [0, "done complete"],
      new TextDecoder().decode(second.stderr),
    );
    const final = await readRunRecord(runJson);
    assertEquals(final.status, "complete");
    assertEquals(final.cells.map((c) => [c.id, c.outcome]), [
      ["a", "pass"],
      ["b", "pass"],
      ["c", "pass"],
    ]);
    assertEquals(final.cells[0], killed.cells[0], "the result written before the kill is kept");
    assertEquals(final.resumes?.length, 2);
    assertEquals(await leftovers(root), []);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
