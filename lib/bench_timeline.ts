/**
 * Where the time of a nested boot goes, finer than the phases a cell records: the runner stamps
 * every console line with the seconds since the cell's boot started, so the markers the init
 * scripts print (guest-images/l1/init, guest-images/busybox/init) and the guests' own kernel
 * clocks give each step's length.
 *
 * Steps, in order (each from the previous marker to its own):
 *
 * | step         | from                      | to                                    |
 * | ------------ | ------------------------- | ------------------------------------- |
 * | `l1_kernel`  | QEMU started              | L1's kernel runs /init (its own clock) |
 * | `l1_init`    | QEMU started              | `vtcio-l1: init`                      |
 * | `l1_setup`   | `vtcio-l1: init`          | `vtcio-l1: tcservice ready`           |
 * | `host_suite` | `host-suite begin`        | `host-suite end`                      |
 * | `l2_prepare` | `host-suite end`          | `vtcio-l1: l2 start`                  |
 * | `l2_start`   | `vtcio-l1: l2 start`      | L2's first console line               |
 * | `l2_kernel`  | L2's first console line   | L2's kernel runs /init (its own clock) |
 * | `l2_init`    | `vtcio-l1: l2 start`      | `vtcio-l2: init`                      |
 * | `guest_suite`| `vtcio-l2: init`          | `vtcio-l2: done`                      |
 * | `l2_exit`    | `vtcio-l2: done`          | `vtcio-l1: l2 exited`                 |
 * | `l1_finish`  | `vtcio-l1: l2 exited`     | `vtcio-l1: done`                      |
 *
 * @module
 */

/** A console line split into the runner's stamp (seconds since the boot began) and its text. */
export interface StampedLine {
  t: number;
  text: string;
}

/** Parses `[   12.345] text` as written to l1-console.log and l2-console.log. */
export function parseStamped(line: string): StampedLine | undefined {
  const m = /^\[\s*(\d+\.\d+)\] (.*)$/.exec(line);
  return m ? { t: Number(m[1]), text: m[2] } : undefined;
}

/** The kernel's own clock on a line (`[    1.234567] ...`), if it has one. */
function kernelClock(text: string): number | undefined {
  const m = /^\[\s*(\d+\.\d+)\] /.exec(text);
  return m ? Number(m[1]) : undefined;
}

/** The steps of one boot (see the module comment), in seconds; steps not seen are absent. */
export function bootTimeline(l1Log: string, l2Log: string): Record<string, number> {
  const l1 = l1Log.split("\n").map(parseStamped).filter((x): x is StampedLine => !!x);
  const l2 = l2Log.split("\n").map(parseStamped).filter((x): x is StampedLine => !!x);
  const at = (lines: StampedLine[], marker: string) =>
    lines.find((l) => l.text.includes(marker))?.t;
  const clockAt = (lines: StampedLine[], marker: string) => {
    const l = lines.find((x) => x.text.includes(marker));
    return l ? kernelClock(l.text) : undefined;
  };
  const out: Record<string, number> = {};
  const span = (name: string, from: number | undefined, to: number | undefined) => {
    if (from !== undefined && to !== undefined && to >= from) out[name] = to - from;
  };
  const init = at(l1, "vtcio-l1: init");
  const l2Start = at(l1, "vtcio-l1: l2 start");
  const l2First = l2[0]?.t;
  const l1Kernel = clockAt(l1, "Run /init as init process");
  const l2Kernel = clockAt(l2, "Run /init as init process");
  if (l1Kernel !== undefined) out.l1_kernel = l1Kernel;
  span("l1_init", 0, init);
  span("l1_setup", init, at(l1, "vtcio-l1: tcservice ready"));
  span("host_suite", at(l1, "vtcio-l1: host-suite begin"), at(l1, "vtcio-l1: host-suite end"));
  span("l2_prepare", at(l1, "vtcio-l1: host-suite end"), l2Start);
  span("l2_start", l2Start, l2First);
  if (l2Kernel !== undefined) out.l2_kernel = l2Kernel;
  span("l2_init", l2Start, at(l2, "vtcio-l2: init"));
  span("guest_suite", at(l2, "vtcio-l2: init"), at(l2, "vtcio-l2: done"));
  span("l2_exit", at(l2, "vtcio-l2: done"), at(l1, "vtcio-l1: l2 exited"));
  span("l1_finish", at(l1, "vtcio-l1: l2 exited"), at(l1, "vtcio-l1: done"));
  const last = l1.at(-1)?.t;
  if (last !== undefined) out.total = last;
  return out;
}

/** The timelines of every cell of a run directory that has both consoles. */
export async function runTimelines(
  runDir: string,
  cellIds: string[],
): Promise<Record<string, number>[]> {
  const out: Record<string, number>[] = [];
  for (const id of cellIds) {
    const dir = `${runDir}/cells/${id}`;
    const l1 = await Deno.readTextFile(`${dir}/l1-console.log`).catch(() => undefined);
    const l2 = await Deno.readTextFile(`${dir}/l2-console.log`).catch(() => undefined);
    if (l1 !== undefined && l2 !== undefined) out.push(bootTimeline(l1, l2));
  }
  return out;
}

/** What each step is, for reports. */
export const STEP_NAMES: Record<string, string> = {
  l1_kernel: "L1 kernel to /init (L1's own clock)",
  l1_init: "L1 boot to init (QEMU start to the init's first line)",
  l1_setup: "L1 init: mounts, KVM check, tcService start",
  host_suite: "host suite in L1",
  l2_prepare: "L1 prepares L2 (QEMU root, initrd)",
  l2_start: "L2's QEMU start to L2's first console line",
  l2_kernel: "L2 kernel to /init (L2's own clock)",
  l2_init: "L2 boot to init (L1 launches L2 to L2's init)",
  guest_suite: "guest suite in L2",
  l2_exit: "L2 exit to L1 noticing",
  l1_finish: "L1 stops tcService and reboots",
  total: "whole nested cycle (to L1's last line)",
};
