/**
 * L2 launches side by side, for the bench command: the bench-boot scenario (matrix/bench.yaml,
 * bench=boot) launches L2 several times in one L1 boot, alternating how L0's root (where QEMU,
 * its libraries and firmware come from) is mounted over 9p. The runner's stamps on both consoles
 * give, for each launch, the time to L2's first console line (QEMU starting and the firmware
 * printing), to L2's init, and to QEMU's exit.
 *
 * @module
 */

import { parseStamped, type StampedLine } from "./bench_timeline.ts";
import { median } from "./bench_scale.ts";

/** One launch of L2 in the bench-boot scenario, in seconds from L1's launch line. */
export interface Launch {
  mode: string;
  /** 1 for the first launch of its mode in the boot (its cache cold), 2 for the next... */
  n: number;
  /** To L2's first console line. */
  firstLine?: number;
  /** To L2's init ("vtcio-l2: bench-boot up"). */
  init?: number;
  /** To L1's exit line (QEMU gone). */
  exit?: number;
  status?: number;
}

/** The launches of one boot, from its two consoles. */
export function bootLaunches(l1Log: string, l2Log: string): Launch[] {
  const parse = (text: string) =>
    text.split("\n").map(parseStamped).filter((x): x is StampedLine => !!x);
  const l1 = parse(l1Log);
  const l2 = parse(l2Log);
  const out: Launch[] = [];
  for (const [i, line] of l1.entries()) {
    const m = /vtcio-l1: bench-boot launch (\d+) cache=(\S+)/.exec(line.text);
    if (!m) continue;
    const start = line.t;
    const end = l1.slice(i + 1).find((l) => l.text.includes(`bench-boot exit ${m[1]} `));
    const limit = end?.t ?? Infinity;
    const mine = l2.filter((l) => l.t >= start && l.t <= limit);
    const up = mine.find((l) => l.text.includes("vtcio-l2: bench-boot up"));
    const status = end ? /status=(\d+)/.exec(end.text) : null;
    out.push({
      mode: m[2],
      n: Number(m[1]),
      ...(mine.length > 0 ? { firstLine: mine[0].t - start } : {}),
      ...(up ? { init: up.t - start } : {}),
      ...(end ? { exit: end.t - start } : {}),
      ...(status ? { status: Number(status[1]) } : {}),
    });
  }
  return out;
}

/** What the launches of one mode and number showed: medians over boots. */
export interface LaunchMedian {
  /** e.g. "loose", launch 1. */
  mode: string;
  n: number;
  boots: number;
  firstLine: number;
  init: number;
  exit: number;
}

/**
 * Medians per mode and launch number (over boots) of the launches that reached L2's init and
 * exited cleanly, in the order first seen.
 */
export function launchMedians(launches: Launch[]): LaunchMedian[] {
  const keys = [...new Set(launches.map((l) => `${l.n} ${l.mode}`))];
  const out: LaunchMedian[] = [];
  for (const key of keys) {
    const ok = launches.filter((l) =>
      `${l.n} ${l.mode}` === key && l.status === 0 && l.firstLine !== undefined &&
      l.init !== undefined && l.exit !== undefined
    );
    if (ok.length === 0) continue;
    out.push({
      mode: ok[0].mode,
      n: ok[0].n,
      boots: ok.length,
      firstLine: median(ok.map((l) => l.firstLine!)),
      init: median(ok.map((l) => l.init!)),
      exit: median(ok.map((l) => l.exit!)),
    });
  }
  return out;
}
