import { assertEquals } from "./test_assert.ts";
import { bootTimeline, parseStamped, runTimelines } from "./bench_timeline.ts";

const L1 = [
  "[     0.410] SeaBIOS (version 1.16.2-debian-1.16.2-1)",
  "[     1.900] [    1.201000] Run /init as init process",
  "[     2.000] vtcio-l1: init kernel=6.1.192+vtcio.4e1ab3ff",
  "[     2.600] vtcio-l1: tcservice ready pid=57",
  "[     2.610] vtcio-l1: host-suite begin",
  "[     3.610] vtcio-l1: host-suite end status=0",
  "[     3.900] vtcio-l1: l2 start smp=1 cpu=host,-xsave",
  "[     9.000] vtcio-l1: l2 exited status=0",
  "[     9.200] vtcio-l1: done status=0",
].join("\n");
const L2 = [
  "[     5.000] [    0.000000] Linux version 6.1.192",
  "[     6.500] [    1.400000] Run /init as init process",
  "[     6.600] vtcio-l2: init kernel=6.1.192 cpus=1",
  "[     8.600] vtcio-l2: done status=0",
].join("\n");

Deno.test("bench_timeline: a console line splits into the runner's stamp and the text", () => {
  assertEquals(parseStamped("[    12.345] vtcio-l1: init"), { t: 12.345, text: "vtcio-l1: init" });
  assertEquals(parseStamped("no stamp"), undefined);
});

Deno.test("bench_timeline: the steps of a boot come from the markers and the kernels' clocks", () => {
  const t = bootTimeline(L1, L2);
  const round = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, Math.round(v * 1000)]));
  assertEquals(round, {
    l1_kernel: 1201,
    l1_init: 2000,
    l1_setup: 600,
    host_suite: 1000,
    l2_prepare: 290,
    l2_start: 1100,
    l2_kernel: 1400,
    l2_init: 2700,
    guest_suite: 2000,
    l2_exit: 400,
    l1_finish: 200,
    total: 9200,
  });
});

Deno.test("bench_timeline: a boot that stopped early has only the steps it reached", () => {
  const l1 = L1.split("\n").slice(0, 4).join("\n");
  const t = bootTimeline(l1, "");
  assertEquals(Object.keys(t).sort(), ["l1_init", "l1_kernel", "l1_setup", "total"]);
});

Deno.test("bench_timeline: the cells of a run directory with both consoles", async () => {
  const dir = await Deno.makeTempDir({ prefix: "vtcio-timeline-" });
  try {
    await Deno.mkdir(`${dir}/cells/a`, { recursive: true });
    await Deno.mkdir(`${dir}/cells/b`, { recursive: true });
    await Deno.writeTextFile(`${dir}/cells/a/l1-console.log`, L1);
    await Deno.writeTextFile(`${dir}/cells/a/l2-console.log`, L2);
    await Deno.writeTextFile(`${dir}/cells/b/l1-console.log`, L1);
    const t = await runTimelines(dir, ["a", "b", "c"]);
    assertEquals(t.length, 1, "b has no L2 console, c no directory");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
