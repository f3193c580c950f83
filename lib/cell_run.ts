/**
 * One cell, start to verdict: kernels (L1 and L2), images, the nested boot, then the evidence
 * (KTAP of both suites, crash reports of both consoles, facts) handed to classify().
 */
import type { Cell, CellResult, Phase, TestResult } from "./types.ts";
import {
  BuildError,
  type KernelArtifact,
  type KernelBuilder,
  parseConfig,
} from "./kernel_build.ts";
import { buildUserspace, busyboxGuestInitramfs, type ImagePaths, l1Initramfs } from "./images.ts";
import { boot, type BootRecord } from "./boot.ts";
import type { Runner } from "./proc.ts";
import { parseKtap } from "./ktap.ts";
import { detectCrashes } from "./crash_detect.ts";
import {
  type CellEvidence,
  classify,
  type ConsoleCrash,
  type ConsoleName,
  crashLines,
} from "./classify.ts";
import { writeFileAtomic } from "./results.ts";
import {
  DEBIAN_GUEST_APPEND,
  debianDriveArgs,
  debianImage,
  debianRelease,
} from "./debian_image.ts";

/** What every cell of a run shares. */
export interface CellContext {
  repo: string;
  cache: string;
  builder: KernelBuilder;
  images: ImagePaths;
  qemu: string;
  accel: "kvm" | "tcg";
  /** L0's TSC frequency in kHz, when known: under TCG, L1 is told it (see boot.ts). */
  l1TscKhz?: number;
  /** linux-source tarball per kernel version. */
  tarballs: Record<string, string>;
  /** Why a kernel version has no tarball, when known (a failed fetch): the skip reason. */
  sourceProblems?: Record<string, string>;
  /** Memory for L1 and L2, in MiB. */
  l1MemMb: number;
  l2MemMb: number;
  signal?: AbortSignal;
  /** The run directory, to name logs relative to it. */
  runDir?: string;
  /** Runs the image step's programs (make, gcc); tests pass a fake. */
  runner?: Runner;
}

/** Config fragments of a cell's L1 and L2 kernels, in merge order. */
export function kernelFragments(cell: Cell, repo: string): { l1: string[]; l2: string[] } {
  const c = `${repo}/kernel/configs`;
  const rel = (p: string) => (p.startsWith("/") ? p : `${repo}/${p}`);
  const l1 = [`${c}/base.config`, `${c}/l1.config`];
  l1.push(`${c}/testdevice-${cell.testdevice ? "on" : "off"}.config`);
  if (cell.debug === "kasan") l1.push(`${c}/kasan.config`);
  return {
    l1: [...l1, ...cell.effects.l1_config.map(rel)],
    // L2 is L1's TESTDEVICE-off configuration plus the guest driver: a guest kernel may carry
    // KVM (Debian's does), and sharing L1's options lets its build reuse L1's objects.
    l2: [
      `${c}/base.config`,
      `${c}/l1.config`,
      `${c}/testdevice-off.config`,
      `${c}/l2.config`,
      ...cell.effects.l2_config.map(rel),
    ],
  };
}

/**
 * The L2 scenario a cell runs: the value of `vtcio.scenario=` in its L2 command line words,
 * "clients" (the guest suite) when it sets none.
 */
export function l2Scenario(cell: Cell): string {
  for (const w of cell.effects.l2_append) {
    const m = /^vtcio\.scenario=(.*)$/.exec(w);
    if (m) return m[1];
  }
  return "clients";
}

/**
 * The options a debug fragment asks for that the final L1 .config does not have (`dropped` as
 * the kernel builder reports it: "CONFIG_X=y (final .config: not set)"). A debug cell whose L1
 * lost KASAN, lockdep or kmemleak to an unmet dependency would pass without checking what it
 * claims to check.
 */
export function missingDebugOptions(fragment: string, dropped: string[]): string[] {
  const wanted = parseConfig(fragment);
  return dropped.filter((d) => wanted.has(d.slice(0, d.indexOf("="))));
}

/**
 * The KTAP sections of L1's console: the host suite's (between "vtcio-l1: host-suite begin" and
 * "end") and a scenario's own checks (between "vtcio-l1: checks begin" and "end"), in order.
 */
export function hostSuiteLines(l1: string[]): string[] {
  const out: string[] = [];
  let inside = false;
  for (const l of l1) {
    if (/vtcio-l1: (?:host-suite|checks) begin/.test(l)) inside = true;
    else if (/vtcio-l1: (?:host-suite|checks) end/.test(l)) inside = false;
    else if (inside) out.push(l);
  }
  return out;
}

/**
 * Prefix of the lines L1 relays from a second L2 guest's console (the two-guests scenario runs
 * two L2s at once; only the first has L1's second serial port).
 */
export const RELAY_PREFIX = "l2b| ";

/** L1's console split into its own lines and those it relayed from the second guest. */
export function splitRelayed(l1: string[]): { l1: string[]; l2b: string[] } {
  const own: string[] = [];
  const l2b: string[] = [];
  for (const l of l1) {
    const at = l.indexOf(RELAY_PREFIX);
    if (at >= 0 && l.slice(0, at).trim() === "") l2b.push(l.slice(at + RELAY_PREFIX.length));
    else own.push(l);
  }
  return { l1: own, l2b };
}

/** The measurement tcvm-launch registered for L2, as L1 printed it. */
export function launchedMeasurement(l1: string[]): string | undefined {
  for (const l of l1) {
    const m = /vtcio: l2 measurement=([0-9a-f]{64})/.exec(l);
    if (m) return m[1];
  }
  return undefined;
}

function crashesOf(lines: string[], console: ConsoleName): ConsoleCrash[] {
  return detectCrashes(lines).map((c) => ({ ...c, console }));
}

/** How to judge a boot beyond what it printed. */
export interface EvidenceOptions {
  /**
   * The L2 guest runs its default scenario (the guest suite), which must report its program
   * hash. Other scenarios are checked against the measurement only when they report one.
   */
  guestSuite?: boolean;
}

/** The runner's check that a guest's program hash is the measurement its launcher registered. */
function hashCheck(
  measured: string | undefined,
  reported: string | undefined,
  name: string,
  number: number,
): TestResult {
  const ok = measured !== undefined && reported === measured;
  return {
    name,
    status: ok ? "ok" : "not ok",
    number,
    diagnostics: ok ? [] : [
      `expected ${measured ?? "(no measurement printed by tcvm-launch)"}, got ${
        reported ?? "(none)"
      }`,
    ],
    suite: "runner",
  };
}

/**
 * Judges a finished boot: suites, crashes, facts, and the runner's own checks (the guest's
 * program hash must be the measurement its launcher registered). A second guest relayed by L1
 * (see {@linkcode RELAY_PREFIX}) is judged like the first: its KTAP, crashes and program hash.
 */
export function evidenceFromBoot(rec: BootRecord, opts: EvidenceOptions = {}): CellEvidence {
  const guestSuite = opts.guestSuite ?? true;
  const { l1, l2b } = splitRelayed(rec.l1);
  const host = parseKtap(hostSuiteLines(l1), "host");
  const guest = parseKtap(rec.l2, "guest");
  const second = l2b.length > 0 ? parseKtap(l2b, "guest-b") : undefined;
  const tests: TestResult[] = [...host.tests, ...guest.tests, ...(second?.tests ?? [])];
  const facts: Record<string, string> = { ...guest.facts };
  const measured = launchedMeasurement(l1);
  if (measured) facts.l2_measurement = measured;
  if (facts.support === "supported" && (guestSuite || facts.program_hash !== undefined)) {
    tests.push(
      hashCheck(
        measured,
        facts.program_hash,
        "guest program hash is the launcher's measurement",
        tests.length + 1,
      ),
    );
  }
  const problems = [
    ...host.problems.map((p) => `host suite: ${p}`),
    ...guest.problems.map((p) => `guest suite: ${p}`),
  ];
  if (host.documents === 0) problems.push("host suite printed no KTAP");
  if (guest.documents === 0) problems.push("guest suite printed no KTAP");
  let complete = host.complete && guest.complete && host.documents > 0 && guest.documents > 0;
  if (second) {
    for (const [k, v] of Object.entries(second.facts)) facts[`l2b_${k}`] = v;
    const measuredB = launchedMeasurement(l2b);
    if (measuredB) facts.l2b_measurement = measuredB;
    if (second.facts.support !== facts.support) {
      tests.push({
        name: "second guest found the same support",
        status: "not ok",
        number: tests.length + 1,
        diagnostics: [`expected ${facts.support ?? "(none)"}, got ${second.facts.support}`],
        suite: "runner",
      });
    }
    if (second.facts.program_hash !== undefined) {
      tests.push(
        hashCheck(
          measuredB,
          second.facts.program_hash,
          "second guest program hash is its launcher's measurement",
          tests.length + 1,
        ),
      );
    }
    problems.push(...second.problems.map((p) => `second guest: ${p}`));
    if (second.documents === 0) problems.push("second guest printed no KTAP");
    complete = complete && second.complete && second.documents > 0;
  }
  return {
    infraError: rec.infraError,
    timeout: rec.timeout,
    flood: rec.flood,
    crashes: [
      ...crashesOf(l1, "l1"),
      ...crashesOf(rec.l2, "l2"),
      ...crashesOf(l2b, "l2b"),
    ],
    tests,
    ktapComplete: complete,
    ktapProblems: problems,
    facts,
    phase: rec.phase,
  };
}

/** Runs one cell and returns its result. Build failures become "build-error" results. */
export async function runCell(
  cell: Cell,
  cellDir: string,
  ctx: CellContext,
  onPhase: (p: Phase) => void = () => {},
): Promise<CellResult> {
  const started = new Date();
  const timings: Partial<Record<Phase, number>> = {};
  const logs: Record<string, string> = {};
  const facts: Record<string, string> = { accel: ctx.accel, l2_cpu: cell.l2_cpu };
  let droppedOptions: string[] = [];
  await Deno.mkdir(cellDir, { recursive: true });
  const finish = async (ev: CellEvidence): Promise<CellResult> => {
    const verdict = classify(cell, { ...ev, droppedOptions });
    // Logs are kept in the cell directory and named relative to the run directory.
    const runDir = ctx.runDir ?? cellDir;
    const relLogs: Record<string, string> = {};
    for (const [name, path] of Object.entries(logs)) {
      let inCell = path;
      if (!path.startsWith(cellDir + "/")) {
        inCell = `${cellDir}/${name}.log`;
        await Deno.copyFile(path, inCell).catch(() => {});
      }
      if (await Deno.stat(inCell).then(() => true, () => false)) {
        relLogs[name] = inCell.startsWith(runDir + "/") ? inCell.slice(runDir.length + 1) : inCell;
      }
    }
    const result: CellResult = {
      id: cell.id,
      axes: cell.axes,
      outcome: verdict.outcome,
      reason: verdict.reason,
      phase: verdict.phase,
      crash: ev.crashes.length > 0 ? crashLines(ev.crashes) : undefined,
      tests: ev.tests,
      timings,
      logs: relLogs,
      attempts: 1,
      flaky: false,
      facts: { ...facts, ...ev.facts },
      started: started.toISOString(),
      finished: new Date().toISOString(),
    };
    await writeFileAtomic(`${cellDir}/result.json`, JSON.stringify(result, null, 2) + "\n");
    return result;
  };
  const empty: CellEvidence = { crashes: [], tests: [], ktapComplete: false, facts: {} };

  const tarball = ctx.tarballs[cell.kernel];
  if (!tarball) {
    return await finish({
      ...empty,
      skipReason: ctx.sourceProblems?.[cell.kernel] ??
        `No linux-source tarball for kernel ${cell.kernel} on this host`,
    });
  }

  const release = debianRelease(cell.guest);
  if (cell.guest !== "busybox" && !release) {
    return await finish({ ...empty, skipReason: `No image recipe for guest ${cell.guest}` });
  }

  // Build phase: kernels, userspace, images. A busybox guest boots the project's L2 kernel; a
  // Debian guest boots its distro kernel with ktcioDD built out of tree in the image.
  onPhase("build");
  const t0 = performance.now();
  let l1k: KernelArtifact, l1i: string;
  let l2Kernel: string, l2Initrd: string;
  let l2Append = [`vtcio.cell=${cell.id}`, ...cell.effects.l2_append].join(" ");
  const l2Qemu = [...cell.effects.l2_qemu];
  try {
    const frags = kernelFragments(cell, ctx.repo);
    l1k = await ctx.builder.build({ version: cell.kernel, fragments: frags.l1 }, tarball);
    logs["l1-build"] = l1k.log;
    if (cell.debug !== "none") {
      const debugFragment = `${ctx.repo}/kernel/configs/${cell.debug}.config`;
      const missing = missingDebugOptions(await Deno.readTextFile(debugFragment), l1k.dropped);
      if (missing.length > 0) {
        throw new BuildError(
          `debug: ${cell.debug} needs options the L1 .config lacks: ${missing.join(", ")}`,
          l1k.log,
          missing.join("\n"),
        );
      }
    }
    const dropped = l1k.dropped.map((x) => `L1 ${x}`);
    facts.l1_kernel = l1k.release;
    let l2k: KernelArtifact | undefined;
    if (!release) {
      l2k = await ctx.builder.build({ version: cell.kernel, fragments: frags.l2 }, tarball);
      logs["l2-build"] = l2k.log;
      dropped.push(...l2k.dropped.map((x) => `L2 ${x}`));
      facts.l2_kernel = l2k.release;
    }
    dropped.forEach((d, i) => facts[`dropped_option_${i + 1}`] = d);
    droppedOptions = dropped;
    if (l1k.sameConfigAs.length > 0) {
      facts.l1_same_config_as = l1k.sameConfigAs
        .map((f) => f.map((x) => x.split("/").pop()).join("+")).join("; ");
    }
    timings.build = (performance.now() - t0) / 1000;
    onPhase("image");
    const t1 = performance.now();
    const userspace = await buildUserspace(ctx.images, ctx.runner);
    l1i = await l1Initramfs(ctx.images, userspace);
    if (release) {
      const img = await debianImage(
        release,
        { repo: ctx.repo, cache: ctx.cache },
        `${userspace}/tcio-guest-suite`,
      );
      logs["l2-image-build"] = `${img.dir}/build.log`;
      facts.l2_kernel = img.kernelRelease;
      facts.l2_image = img.key;
      l2Kernel = img.vmlinuz;
      l2Initrd = img.initrd;
      l2Append += ` ${DEBIAN_GUEST_APPEND}`;
      l2Qemu.unshift(...debianDriveArgs(img.rootfs));
    } else {
      l2Kernel = l2k!.bzImage;
      l2Initrd = await busyboxGuestInitramfs(ctx.images, userspace);
    }
    timings.image = (performance.now() - t1) / 1000;
  } catch (e) {
    timings.build = (performance.now() - t0) / 1000;
    if (e instanceof BuildError) {
      if (e.log) logs.build = e.log;
      await Deno.writeTextFile(`${cellDir}/build-error.txt`, `${e.message}\n${e.tail}\n`);
      logs["build-error"] = `${cellDir}/build-error.txt`;
      return await finish({ ...empty, buildError: e.message });
    }
    throw e;
  }
  await Deno.copyFile(l2Kernel, `${cellDir}/l2-bzImage`);
  await Deno.copyFile(l2Initrd, `${cellDir}/l2-initrd.cpio.gz`);

  const rec = await boot({
    qemu: ctx.qemu,
    accel: ctx.accel,
    cellDir,
    l1Kernel: l1k.bzImage,
    l1Initrd: l1i,
    l1Smp: cell.l1_smp,
    l1MemMb: ctx.l1MemMb,
    l2Smp: cell.l2_smp,
    l2Cpu: cell.l2_cpu,
    l2MemMb: ctx.l2MemMb,
    l2Append,
    l1Append: cell.effects.l1_append,
    l1TscKhz: ctx.l1TscKhz,
    l1Qemu: cell.effects.l1_qemu,
    l2Qemu,
    timeouts: cell.timeouts,
  }, { onPhase, signal: ctx.signal });
  Object.assign(timings, rec.timings);
  logs["l1-console"] = `${cellDir}/l1-console.log`;
  logs["l2-console"] = `${cellDir}/l2-console.log`;
  logs.tcservice = `${cellDir}/tcservice.log`;
  facts.qemu_argv = rec.argv.join(" ");
  await Deno.remove(`${cellDir}/l2-bzImage`).catch(() => {});
  await Deno.remove(`${cellDir}/l2-initrd.cpio.gz`).catch(() => {});
  return await finish(evidenceFromBoot(rec, { guestSuite: l2Scenario(cell) === "clients" }));
}
