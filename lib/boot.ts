/**
 * Boot: one nested cycle. L1 runs in QEMU on this host (KVM when the host has usable nested
 * virtualization, TCG with an emulated SVM otherwise), gets L0's root read-only over 9p for its
 * own QEMU, and the cell directory read-write. L1's init (guest-images/l1/init) starts tcService,
 * runs the host suite and launches L2, whose serial console leaves L1 on its second serial port.
 * Both consoles are written to files, each line stamped with the seconds since the cell started.
 * Every phase has a deadline; a phase that overruns ends the cycle as a timeout in that phase.
 */
import type { Phase, PhaseTimeouts } from "./types.ts";
import { merge, readLines, spawn, type Spawned } from "./proc.ts";

/** Everything one boot needs. */
export interface BootSpec {
  qemu: string;
  accel: "kvm" | "tcg";
  cellDir: string;
  l1Kernel: string;
  l1Initrd: string;
  l1Smp: number;
  l1MemMb: number;
  l2Smp: number;
  l2Cpu: string;
  l2MemMb: number;
  /** Extra kernel command line for L2. */
  l2Append: string;
  /** Words added to L1's kernel command line. */
  l1Append?: string[];
  /**
   * L0's TSC frequency in kHz. Under TCG, L1's TSC is L0's, and L1 is told its rate
   * (`tsc_early_khz=`): left to calibrate against the emulated PIT, L1 fails now and then under
   * load, and its KVM then never enters any L2 (docs/troubleshooting.md, "L2 never prints").
   * With the rate, L1 also gets `tsc=reliable`: its only other clocksource is jiffies, which lag
   * under TCG (ticks are lost on a busy L0), so the clocksource watchdog would otherwise declare
   * the TSC unstable a second after boot and fall back to jiffies: L1's time would run slow, its
   * timers and clock reads would be 4 ms coarse, and so would the kvm-clock it gives L2.
   */
  l1TscKhz?: number;
  l1Qemu: string[];
  l2Qemu: string[];
  timeouts: PhaseTimeouts;
  /**
   * Most bytes kept of each console, in memory and in its log (default
   * {@link CONSOLE_CAP_BYTES}). A guest that prints more is stopped: see BootRecord.flood.
   */
  consoleCapBytes?: number;
}

/** How much one console may print before the guest is stopped as a flood: 16 MiB. */
export const CONSOLE_CAP_BYTES = 16 * 1024 * 1024;

/** What a boot showed. */
export interface BootRecord {
  /** Seconds spent in each phase reached. */
  timings: Partial<Record<Phase, number>>;
  timeout?: { phase: Phase; seconds: number };
  /** The cycle could not run (QEMU did not start, L1 could not set up L2...). */
  infraError?: string;
  /** Phase the cycle was in when it ended. */
  phase?: Phase;
  l1: string[];
  l2: string[];
  qemuExit: number | null;
  /** L1 reached its end marker (the cycle ran to completion). */
  completed: boolean;
  /** The QEMU command line, for the record. */
  argv: string[];
  /** A console went past its cap: QEMU was stopped and the rest of the output dropped. */
  flood?: { console: "l1" | "l2"; bytes: number; phase: Phase };
}

/**
 * Markers printed by the init scripts, the phases each one ends and the phase it starts. A
 * scenario may run several L2 guests one after the other: L1's "l2 start" after an L2 finished
 * (or died without its end marker, or was given up) starts l2_boot again, with a fresh
 * deadline; its checks after the last guest count as client work again.
 */
const MARKERS: { console: "l1" | "l2"; prefix: string; ends: Phase[]; next: Phase }[] = [
  { console: "l1", prefix: "vtcio-l1: init", ends: ["l1_boot"], next: "clients" },
  {
    console: "l1",
    prefix: "vtcio-l1: l2 start",
    ends: ["clients", "l2_boot", "shutdown"],
    next: "l2_boot",
  },
  { console: "l2", prefix: "vtcio-l2: init", ends: ["l2_boot"], next: "clients" },
  { console: "l2", prefix: "vtcio-l2: done", ends: ["clients"], next: "shutdown" },
  // A scenario's own checks on L1 (kmemleak scans, counters) once its guests are gone.
  {
    console: "l1",
    prefix: "vtcio-l1: checks begin",
    ends: ["clients", "l2_boot", "shutdown"],
    next: "clients",
  },
];

const SHUTDOWN_SECONDS = 60;

/** The QEMU arguments for L1. */
export function l1Args(spec: BootSpec, l2Socket: string): string[] {
  const accel = spec.accel === "kvm"
    ? ["-accel", "kvm", "-cpu", "host"]
    : ["-accel", "tcg,thread=multi", "-cpu", "max"];
  const quote = (s: string) => s.replaceAll('"', "");
  const append = [
    "console=ttyS0",
    "panic=-1",
    "loglevel=5",
    `vtcio.l2_smp=${spec.l2Smp}`,
    `vtcio.l2_cpu=${spec.l2Cpu}`,
    `vtcio.l2_mem=${spec.l2MemMb}`,
    `vtcio.l2_append="${quote(spec.l2Append)}"`,
    `vtcio.l2_qemu="${quote(spec.l2Qemu.join(" "))}"`,
    ...(spec.accel === "tcg" && spec.l1TscKhz
      ? [`tsc_early_khz=${spec.l1TscKhz}`, "tsc=reliable"]
      : []),
    ...(spec.l1Append ?? []),
  ].join(" ");
  return [
    ...accel,
    "-smp",
    String(spec.l1Smp),
    "-m",
    `${spec.l1MemMb}M`,
    "-display",
    "none",
    "-nodefaults",
    "-no-reboot",
    "-kernel",
    spec.l1Kernel,
    "-initrd",
    spec.l1Initrd,
    "-append",
    append,
    "-chardev",
    "stdio,id=l1con,signal=off",
    "-serial",
    "chardev:l1con",
    "-chardev",
    `socket,id=l2con,path=${l2Socket}`,
    "-serial",
    "chardev:l2con",
    "-virtfs",
    "local,path=/,mount_tag=host,security_model=none,readonly=on,multidevs=remap",
    "-virtfs",
    `local,path=${spec.cellDir},mount_tag=cell,security_model=none,multidevs=remap`,
    ...spec.l1Qemu,
  ];
}

function stamp(seconds: number): string {
  return `[${seconds.toFixed(3).padStart(10)}] `;
}

/**
 * Runs one nested cycle and records both consoles. Never throws for what the guests do; throws
 * only when the host itself fails (files cannot be written).
 */
export async function boot(
  spec: BootSpec,
  opts: { onPhase?: (p: Phase) => void; signal?: AbortSignal } = {},
): Promise<BootRecord> {
  const t0 = performance.now();
  const now = () => (performance.now() - t0) / 1000;
  const sockDir = await Deno.makeTempDir({ prefix: "vtcio-" });
  const sock = `${sockDir}/l2.sock`;
  const listener = Deno.listen({ transport: "unix", path: sock });
  const l1Log = await Deno.open(`${spec.cellDir}/l1-console.log`, {
    create: true,
    write: true,
    truncate: true,
  });
  const l2Log = await Deno.open(`${spec.cellDir}/l2-console.log`, {
    create: true,
    write: true,
    truncate: true,
  });
  const enc = new TextEncoder();
  const rec: BootRecord = {
    timings: {},
    l1: [],
    l2: [],
    qemuExit: null,
    completed: false,
    argv: [],
  };
  let phase: Phase = "l1_boot";
  let phaseStart = 0;
  let deadline = spec.timeouts.l1_boot;
  const limitOf = (p: Phase): number =>
    p === "shutdown" ? SHUTDOWN_SECONDS : spec.timeouts[p as keyof PhaseTimeouts] ?? 60;
  const enter = (next: Phase) => {
    const t = now();
    rec.timings[phase] = (rec.timings[phase] ?? 0) + (t - phaseStart);
    phase = next;
    phaseStart = t;
    deadline = limitOf(next);
    opts.onPhase?.(next);
  };

  const args = l1Args(spec, sock);
  rec.argv = [spec.qemu, ...args];
  let qemu: Spawned;
  try {
    qemu = spawn(spec.qemu, args, { cwd: spec.cellDir });
  } catch (e) {
    listener.close();
    l1Log.close();
    l2Log.close();
    await Deno.remove(sockDir, { recursive: true }).catch(() => {});
    return { ...rec, infraError: `QEMU did not start: ${(e as Error).message}` };
  }
  opts.onPhase?.("l1_boot");

  let killed = false;
  // A console that cannot be written (disk full) is the host failing: QEMU is stopped at once
  // and boot() throws once it is gone.
  let hostError: Error | undefined;
  // Bytes seen per console: past the cap, lines are dropped (memory and disk stay bounded
  // whatever a guest prints) and QEMU is stopped.
  const cap = spec.consoleCapBytes ?? CONSOLE_CAP_BYTES;
  const seen = { l1: 0, l2: 0 };
  const onLine = async (which: "l1" | "l2", line: string) => {
    const t = now();
    seen[which] += line.length + 1;
    if (seen[which] > cap) {
      if (rec.flood === undefined) {
        rec.flood = { console: which, bytes: cap, phase };
        const note = `[vtcio: ${which.toUpperCase()} console flood: more than ${cap} bytes, ` +
          `the rest is dropped and the guest stopped]`;
        rec[which].push(note);
        await (which === "l1" ? l1Log : l2Log).write(enc.encode(stamp(t) + note + "\n"))
          .catch(() => {});
        if (!killed) {
          killed = true;
          qemu.kill(2000);
        }
      }
      return;
    }
    rec[which].push(line);
    if (!hostError) {
      try {
        await (which === "l1" ? l1Log : l2Log).write(enc.encode(stamp(t) + line + "\n"));
      } catch (e) {
        const file = `${spec.cellDir}/${which}-console.log`;
        hostError = new Error(`Cannot write ${file}: ${(e as Error).message}`, { cause: e });
        killed = true;
        qemu.kill(0);
      }
    }
    for (const m of MARKERS) {
      if (m.console === which && m.ends.includes(phase) && line.includes(m.prefix)) {
        enter(m.next);
        break;
      }
    }
    if (which === "l1") {
      const err = /vtcio-l1: error (.*)/.exec(line);
      if (err && !rec.infraError) rec.infraError = `L1: ${err[1]}`;
      if (line.includes("vtcio-l1: done")) rec.completed = true;
    }
  };

  // L2's console arrives when QEMU connects to our socket (it does so at start).
  const l2Reader = (async () => {
    try {
      const conn = await listener.accept();
      for await (const line of readLines(conn.readable)) await onLine("l2", line);
    } catch {
      // Listener closed before QEMU connected: QEMU failed early.
    }
  })();
  const l1Reader = (async () => {
    for await (const line of merge(qemu.lines)) await onLine("l1", line);
  })();

  const watchdog = setInterval(() => {
    if (killed) return;
    if (now() - phaseStart > deadline || opts.signal?.aborted) {
      killed = true;
      if (!opts.signal?.aborted) rec.timeout = { phase, seconds: deadline };
      else rec.infraError = "Interrupted";
      qemu.kill(2000);
    }
  }, 250);
  const status = await qemu.status;
  clearInterval(watchdog);
  await qemu.kill(0);
  await l1Reader;
  listener.close();
  await Promise.race([l2Reader, new Promise((r) => setTimeout(r, 1000))]);
  rec.qemuExit = status.code;
  rec.phase = phase;
  rec.timings[phase] = (rec.timings[phase] ?? 0) + (now() - phaseStart);
  l1Log.close();
  l2Log.close();
  await Deno.remove(sockDir, { recursive: true }).catch(() => {});
  if (hostError) throw hostError;
  if (!rec.completed && !rec.timeout && !rec.infraError && !rec.flood && status.code !== 0) {
    // QEMU itself failed (bad arguments, missing file, killed): the cycle never ran properly.
    const last = rec.l1.slice(-3).join(" | ") || "no output";
    rec.infraError = `QEMU exited with status ${status.code} in ${phase}: ${last}`;
  }
  return rec;
}
