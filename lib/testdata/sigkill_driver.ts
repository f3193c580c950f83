/**
 * For lib/faults_sigkill_test.ts: a run of three cells (a, b, c), one at a time, through
 * runCells() and the real runCell() and boot() (fake QEMU and builds, see fake_guest.ts), with
 * results recorded in run.json by the JsonReporter as the CLI records them.
 *
 *   sigkill_driver.ts ROOT RUN_ID QEMU create|resume
 *
 * "create" makes the run `RUN_ID` under ROOT/results; "resume" opens it again and runs the
 * cells without a result. Prints "done <status>" at the end.
 */
import { runCells } from "../runner.ts";
import { runCell } from "../cell_run.ts";
import { RunStore } from "../results.ts";
import { MultiReporter } from "../reporter.ts";
import { JsonReporter } from "../reporter_json.ts";
import { faultContext, testCell } from "./fake_guest.ts";

const [root, runId, qemu, mode] = Deno.args;
const cells = ["a", "b", "c"].map((id) => testCell(id));
const results = `${root}/results`;
const store = mode === "resume"
  ? await RunStore.open(results, runId, Deno.args)
  : await RunStore.create(results, {
    run_id: runId,
    matrix: { file: "faults.yaml", name: "faults", sha256: "00" },
    host: {},
    versions: {},
    planned: cells.map((c) => c.id),
    argv: Deno.args,
  });
const pending = store.pending();
const summary = await runCells({
  store,
  cells: cells.filter((c) => pending.includes(c.id)),
  ctx: await faultContext(root, qemu, { runDir: store.dir }),
  reporter: new MultiReporter([new JsonReporter(store)]),
  runCell,
  jobs: 1,
  retries: 0,
  signal: new AbortController().signal,
});
console.log(`done ${summary.status}`);
