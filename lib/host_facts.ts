/**
 * What this machine offers vtcio: QEMU, KVM or an emulated SVM, the accel mode the runner must
 * use, disk, memory, cores, kernel sources and build tools. Read-only: nothing is installed or
 * changed (doctor.ts judges the facts, `./vtcio setup` installs).
 *
 * How "KVM is usable for ordinary guests" is decided. `/dev/kvm` alone proves little: on some
 * machines it is backed by kvm_pvm, a paravirtual KVM that only runs specially built guests. A
 * QEMU start with `-machine none` succeeds there too, and so does a real-mode guest with QEMU's
 * default CPU model (both measured). What vtcio needs is `-accel kvm -cpu host` running a guest
 * whose CPU offers VMX or SVM to L1. So KVM counts as usable only when
 *   1. `/dev/kvm` exists,
 *   2. `/proc/cpuinfo` shows `vmx` or `svm` (without them L1 gets no virtualization), and
 *   3. a tiny guest runs under `-accel kvm -cpu host`: a 64 KiB firmware image whose reset vector
 *      writes to QEMU's isa-debug-exit port, so QEMU exits with status 3 once the guest has
 *      executed instructions. It takes about 0.1 s; a 5 s timeout guards against a hang.
 * Nested virtualization is read from the `nested` parameter of kvm_intel or kvm_amd.
 *
 * TCG with SVM: a QMP `query-cpu-model-expansion` of model "max" under `-accel tcg -machine none`
 * (about 0.2 s, no guest) says whether QEMU's emulated CPU offers `svm` and `npt`.
 *
 * Kernel sources: `linux-source-SERIES.tar.xz` in /usr/src (Debian packages, version from
 * dpkg-query, else the tarball's Makefile), then in `<cache>/linux-source/` for the series that
 * setup/kernel-sources.txt says are fetched (7.2 from sid), with the version the fetch recorded.
 *
 * L0's TSC frequency: read from L0's kernel log (`dmesg`, else the journal's kernel messages).
 * Under TCG, L1's TSC is L0's (QEMU's emulated `rdtsc` returns the host's), so L1 is told this rate
 * with `tsc_early_khz=` rather than left to calibrate against the emulated PIT, which fails under
 * load and leaves L1's KVM unable to run any L2 (docs/troubleshooting.md, "L2 never prints").
 *
 * @module
 */
import { run, type Runner, type RunResult } from "./proc.ts";
import {
  fetchedSourcesDir,
  KERNEL_SOURCES_TABLE,
  parseFetchedRecord,
  parseKernelSourcesTable,
} from "./kernel_sources.ts";

/** File system access hostFacts needs, so tests can replace the machine. */
export interface HostFiles {
  /** The file's text, or null when it is missing or unreadable. */
  readText(path: string): Promise<string | null>;
  exists(path: string): Promise<boolean>;
  /** True for a regular file with an execute bit. */
  isExecutable(path: string): Promise<boolean>;
  /** Names in a directory, sorted; empty when it is missing. */
  readDir(path: string): Promise<string[]>;
  /** Writes a temporary file and returns its path. */
  writeTemp(data: Uint8Array): Promise<string>;
  /** Removes a file; a missing file is not an error. */
  remove(path: string): Promise<void>;
}

/** {@link HostFiles} on the real file system. */
export const systemFiles: HostFiles = {
  async readText(path) {
    try {
      return await Deno.readTextFile(path);
    } catch {
      return null;
    }
  },
  async exists(path) {
    try {
      await Deno.stat(path);
      return true;
    } catch {
      return false;
    }
  },
  async isExecutable(path) {
    try {
      const s = await Deno.stat(path);
      return s.isFile && s.mode !== null && (s.mode & 0o111) !== 0;
    } catch {
      return false;
    }
  },
  async readDir(path) {
    const names: string[] = [];
    try {
      for await (const e of Deno.readDir(path)) names.push(e.name);
    } catch {
      return [];
    }
    return names.sort();
  },
  async writeTemp(data) {
    const path = await Deno.makeTempFile({ prefix: "vtcio-probe-" });
    await Deno.writeFile(path, data);
    return path;
  },
  async remove(path) {
    await Deno.remove(path).catch(() => {});
  },
};

export interface QemuFacts {
  /** Path of qemu-system-x86_64, or the bare name when it is not on the search path. */
  path: string;
  found: boolean;
  /** E.g. "7.2.22"; null when it did not answer `--version`. */
  version: string | null;
}

export interface CpuFacts {
  /** E.g. "GenuineIntel", "AuthenticAMD". */
  vendor: string | null;
  model: string | null;
  vmx: boolean;
  svm: boolean;
}

export interface KvmFacts {
  /** `/dev/kvm` exists. */
  device: boolean;
  /** Loaded KVM vendor modules among kvm_intel, kvm_amd, kvm_pvm. */
  modules: string[];
  /** A guest runs with `-accel kvm -cpu host` on a CPU with vmx or svm. */
  usable: boolean;
  /** kvm_intel or kvm_amd has nested virtualization on. */
  nested: boolean;
  /** One sentence: why usable or not. */
  detail: string;
}

export interface TcgFacts {
  /** QEMU's emulated `-cpu max` offers SVM... */
  svm: boolean;
  /** ...with nested paging. */
  npt: boolean;
  detail: string;
}

export type AccelMode = "kvm" | "tcg";

export interface DiskFacts {
  /** The directory asked about (results or cache). */
  dir: string;
  /** The nearest existing directory, where free space was measured. */
  measured: string;
  /** Null when `df` did not answer. */
  freeBytes: number | null;
}

export interface MemoryFacts {
  totalBytes: number | null;
  availableBytes: number | null;
}

export interface ToolFacts {
  path: string | null;
  version: string | null;
}

export interface HostFacts {
  qemu: QemuFacts;
  cpu: CpuFacts;
  kvm: KvmFacts;
  tcg: TcgFacts;
  /** How the runner starts L1: "kvm" with `-cpu host`, or "tcg" with `-cpu max`. */
  accel: AccelMode;
  /** The `-cpu` model that goes with {@link HostFacts.accel}. */
  accelCpu: "host" | "max";
  /** Why this accel mode. */
  accelReason: string;
  disks: DiskFacts[];
  memory: MemoryFacts;
  /** Cores available to this process (`nproc`). */
  cores: number;
  /** Kernel series ("6.1") -> linux-source tarball path. */
  kernelSources: Record<string, string>;
  /** Kernel series -> exact version inside the tarball ("6.1.192"), null when unreadable. */
  kernelVersions: Record<string, string | null>;
  /**
   * Kernel series -> the Debian package its tarball came from and how, e.g.
   * "linux-source-7.2 7.2.13-1 (fetched from sid on 2026-12-03T10:46:56Z)".
   */
  kernelPackages: Record<string, string>;
  /** Series that are fetched on demand rather than installed -> their Debian suite. */
  fetchableKernels: Record<string, string>;
  /** Path of busybox, or null. */
  busybox: string | null;
  /** Whether that busybox is statically linked (null when `file` could not tell). */
  busyboxStatic: boolean | null;
  debootstrap: string | null;
  ccache: ToolFacts;
  gcc: ToolFacts;
  /**
   * L0's TSC frequency in kHz as its kernel logged it, or null when the log does not say (not
   * readable, or the boot messages have rotated out).
   */
  tscKhz: number | null;
}

export interface HostFactsOptions {
  /** Directories whose free space matters (default: the results and cache roots). */
  dirs?: string[];
  /** Search path for programs (default: $PATH plus the sbin directories). */
  path?: string;
  /** Where linux-source tarballs are (default /usr/src). */
  srcDir?: string;
  /** Where fetched linux-source tarballs are (default `<cache>/linux-source`). */
  fetchedSrcDir?: string;
  /** The vtcio checkout, for setup/kernel-sources.txt (default: this module's). */
  repo?: string;
  /** Timeout of each QEMU probe (default 5000 ms). */
  probeTimeoutMs?: number;
}

const QEMU = "qemu-system-x86_64";
const SBIN = "/usr/local/sbin:/usr/sbin:/sbin";
const KVM_MODULES = ["kvm_intel", "kvm_amd", "kvm_pvm"];
/** isa-debug-exit turns the value 1 written by the probe firmware into exit status 3. */
const PROBE_EXIT = 3;

// ---- Pure parsers -------------------------------------------------------------------------------

/** "QEMU emulator version 7.2.22 (Debian ...)" -> "7.2.22". */
export function parseQemuVersion(stdout: string): string | null {
  return stdout.match(/QEMU emulator version (\d+\.\d+(?:\.\d+)?)/)?.[1] ?? null;
}

/** Vendor, model and virtualization flags from `/proc/cpuinfo` (first processor). */
export function parseCpuInfo(text: string): CpuFacts & { processors: number } {
  const field = (name: string) =>
    text.match(new RegExp(`^${name}\\s*:\\s*(.*)$`, "m"))?.[1].trim() || null;
  const flags = new Set((field("flags") ?? "").split(/\s+/));
  return {
    vendor: field("vendor_id"),
    model: field("model name"),
    vmx: flags.has("vmx"),
    svm: flags.has("svm"),
    processors: text.match(/^processor\s*:/gm)?.length ?? 0,
  };
}

/** MemTotal and MemAvailable from `/proc/meminfo`, in bytes. */
export function parseMemInfo(text: string): MemoryFacts {
  const kib = (name: string) => {
    const m = text.match(new RegExp(`^${name}:\\s*(\\d+)\\s*kB`, "m"));
    return m ? Number(m[1]) * 1024 : null;
  };
  return { totalBytes: kib("MemTotal"), availableBytes: kib("MemAvailable") };
}

/** Output of `df --output=avail -B1 DIR` -> bytes. */
export function parseDfAvail(stdout: string): number | null {
  const last = stdout.trim().split("\n").pop()?.trim() ?? "";
  return /^\d+$/.test(last) ? Number(last) : null;
}

/** A kvm_intel/kvm_amd `nested` parameter ("Y", "1") -> on. */
export function parseNestedParam(text: string | null): boolean {
  const v = text?.trim();
  return v === "Y" || v === "y" || v === "1";
}

/**
 * The answer to QMP `query-cpu-model-expansion` in QEMU's stdout (one JSON message a line) ->
 * whether the model offers svm and npt; null when no expansion is in the output.
 */
export function parseCpuModelExpansion(stdout: string): { svm: boolean; npt: boolean } | null {
  for (const line of stdout.split("\n")) {
    let msg: unknown;
    try {
      msg = JSON.parse(line);
    } catch {
      continue;
    }
    const props = (msg as { return?: { model?: { props?: Record<string, unknown> } } })
      ?.return?.model?.props;
    if (props && typeof props === "object") {
      return { svm: props.svm === true, npt: props.npt === true };
    }
  }
  return null;
}

/** A kernel's top-level Makefile -> "6.1.192" (with EXTRAVERSION, e.g. "6.13.0-rc3"). */
export function parseKernelMakefile(text: string): string | null {
  const v = (name: string) => text.match(new RegExp(`^${name}\\s*=[ \\t]*(\\S*)`, "m"))?.[1];
  const [version, patch, sub] = [v("VERSION"), v("PATCHLEVEL"), v("SUBLEVEL")];
  if (!version || !patch || sub === undefined) return null;
  return `${version}.${patch}.${sub || "0"}${v("EXTRAVERSION") ?? ""}`;
}

/** A Debian package version -> the upstream one: "1:6.12.117-1~deb12u1" -> "6.12.117". */
export function debianUpstreamVersion(version: string): string {
  return version.trim().replace(/^\d+:/, "").replace(/-[^-]*$/, "").replace(/~/g, "-");
}

/** "linux-source-6.12.tar.xz" -> "6.12"; null for any other name. */
export function kernelSourceSeries(fileName: string): string | null {
  return fileName.match(/^linux-source-(\d+\.\d+)\.tar\.(?:xz|bz2|gz)$/)?.[1] ?? null;
}

/**
 * L0's TSC frequency in kHz from its kernel log: the last "tsc: Refined TSC clocksource
 * calibration: N MHz", else "tsc: Detected N MHz TSC", else "tsc: Detected N MHz processor"
 * (Linux prints the TSC line only when the TSC's rate differs from the processor's). Null when
 * the log has none of them.
 */
export function parseTscKhz(kernelLog: string): number | null {
  const last = (re: RegExp): number | null => {
    const all = [...kernelLog.matchAll(re)];
    return all.length > 0 ? Math.round(Number(all[all.length - 1][1]) * 1000) : null;
  };
  const khz = last(/tsc: Refined TSC clocksource calibration: (\d+(?:\.\d+)?) MHz/g) ??
    last(/tsc: Detected (\d+(?:\.\d+)?) MHz TSC/g) ??
    last(/tsc: Detected (\d+(?:\.\d+)?) MHz processor/g);
  return khz !== null && khz > 0 ? khz : null;
}

/** First version-looking token ("12.2.0", "4.7.5") in a program's output. */
export function firstVersion(text: string): string | null {
  return text.match(/\b(\d+\.\d+(?:\.\d+)*)\b/)?.[1] ?? null;
}

/** `file -b` output -> statically linked or not. */
export function isStaticBinary(fileOutput: string): boolean {
  return /statically linked|static-pie linked/.test(fileOutput);
}

/**
 * The probe firmware: 64 KiB of `hlt`, with `mov al, 1; out 0xf4, al; hlt; jmp $-1` at the reset
 * vector (offset 0xfff0, mapped at 0xfffffff0). With `-device isa-debug-exit,iobase=0xf4`
 * QEMU then exits with status (1 << 1) | 1 = 3.
 */
export function probeFirmware(): Uint8Array {
  const image = new Uint8Array(0x10000).fill(0xf4);
  image.set([0xb0, 0x01, 0xe6, 0xf4, 0xf4, 0xeb, 0xfd], 0xfff0);
  return image;
}

/** Arguments that run the probe firmware as a guest under `accel` with CPU model `cpu`. */
export function probeArgs(firmware: string, accel: string, cpu: string): string[] {
  return [
    ...["-accel", accel, "-cpu", cpu, "-machine", "pc", "-m", "16"],
    ...["-nodefaults", "-display", "none", "-serial", "none", "-monitor", "none", "-no-reboot"],
    ...["-bios", firmware, "-device", "isa-debug-exit,iobase=0xf4,iosize=1"],
  ];
}

/** Whether the probe guest ran, and a short reason when it did not. */
export function interpretProbe(result: RunResult | null): { ran: boolean; detail: string } {
  if (result === null) return { ran: false, detail: "QEMU could not be started" };
  if (result.code === PROBE_EXIT && !result.timedOut) return { ran: true, detail: "" };
  if (result.timedOut) return { ran: false, detail: "the probe guest hung until the timeout" };
  const said = result.stderr.split("\n").map((l) => l.trim()).find((l) => l.length > 0);
  const how = result.signal ? `was killed by ${result.signal}` : `exited with ${result.code}`;
  return { ran: false, detail: said ? `QEMU ${how}: ${said}` : `QEMU ${how}` };
}

/** The accel mode for L1: KVM only when ordinary guests run and nesting is on. */
export function chooseAccel(
  kvm: KvmFacts,
  tcg: TcgFacts,
): { accel: AccelMode; accelCpu: "host" | "max"; accelReason: string } {
  if (kvm.usable && kvm.nested) {
    return {
      accel: "kvm",
      accelCpu: "host",
      accelReason: "KVM runs ordinary guests and nested virtualization is on",
    };
  }
  const why = !kvm.usable
    ? "KVM is not usable for ordinary guests"
    : "KVM works but nested virtualization is off";
  const tcgNote = tcg.svm && tcg.npt
    ? "TCG emulates SVM with NPT for L1"
    : "and TCG does not offer SVM with NPT either";
  return { accel: "tcg", accelCpu: "max", accelReason: `${why}; ${tcgNote}` };
}

// ---- Gathering ----------------------------------------------------------------------------------

/** Runs a program; null when it could not be started (not installed). */
async function tryRun(
  runner: Runner,
  cmd: string,
  args: string[],
  opts: Parameters<Runner>[2] = {},
): Promise<RunResult | null> {
  try {
    return await runner(cmd, args, opts);
  } catch {
    return null;
  }
}

/** The first executable called `name` on the search path. */
export async function findProgram(
  name: string,
  searchPath: string,
  files: HostFiles,
): Promise<string | null> {
  for (const dir of searchPath.split(":")) {
    if (dir === "") continue;
    const candidate = `${dir.replace(/\/$/, "")}/${name}`;
    if (await files.isExecutable(candidate)) return candidate;
  }
  return null;
}

async function nearestExisting(dir: string, files: HostFiles): Promise<string> {
  let d = dir.replace(/\/+$/, "") || "/";
  while (d !== "/" && d !== "." && !(await files.exists(d))) {
    const cut = d.lastIndexOf("/");
    d = cut > 0 ? d.slice(0, cut) : cut === 0 ? "/" : ".";
  }
  return d;
}

async function kvmFacts(
  cpu: CpuFacts,
  qemu: QemuFacts,
  runner: Runner,
  files: HostFiles,
  timeoutMs: number,
): Promise<KvmFacts> {
  const device = await files.exists("/dev/kvm");
  const modules: string[] = [];
  for (const m of KVM_MODULES) {
    if (await files.exists(`/sys/module/${m}`)) modules.push(m);
  }
  let nested = false;
  for (const m of ["kvm_intel", "kvm_amd"]) {
    if (parseNestedParam(await files.readText(`/sys/module/${m}/parameters/nested`))) {
      nested = true;
    }
  }
  const facts = { device, modules, nested };
  const pvm = modules.includes("kvm_pvm") ? " (kvm_pvm is loaded: a paravirtual KVM)" : "";
  if (!device) {
    return { ...facts, usable: false, detail: "No /dev/kvm" };
  }
  if (!cpu.vmx && !cpu.svm) {
    return {
      ...facts,
      usable: false,
      detail: `/dev/kvm exists but the CPU shows no vmx or svm flag${pvm}`,
    };
  }
  if (!qemu.found) {
    return { ...facts, usable: false, detail: "QEMU is missing, so KVM could not be probed" };
  }
  const firmware = await files.writeTemp(probeFirmware());
  try {
    const result = await tryRun(runner, qemu.path, probeArgs(firmware, "kvm", "host"), {
      timeoutMs,
    });
    const probe = interpretProbe(result);
    if (!probe.ran) {
      return {
        ...facts,
        usable: false,
        detail: `A guest with -accel kvm -cpu host did not run: ${probe.detail}${pvm}`,
      };
    }
    return { ...facts, usable: true, detail: "A guest ran with -accel kvm -cpu host" };
  } finally {
    await files.remove(firmware);
  }
}

const QMP_EXPAND = [
  { execute: "qmp_capabilities" },
  { execute: "query-cpu-model-expansion", arguments: { type: "full", model: { name: "max" } } },
  { execute: "quit" },
].map((m) => JSON.stringify(m)).join("\n") + "\n";

async function tcgFacts(qemu: QemuFacts, runner: Runner, timeoutMs: number): Promise<TcgFacts> {
  if (!qemu.found) return { svm: false, npt: false, detail: "QEMU is missing" };
  const args = ["-accel", "tcg", "-machine", "none", "-nodefaults", "-display", "none"];
  const result = await tryRun(runner, qemu.path, [...args, "-qmp", "stdio"], {
    stdin: QMP_EXPAND,
    timeoutMs,
  });
  const expansion = result ? parseCpuModelExpansion(result.stdout) : null;
  if (!expansion) {
    const why = result === null ? "QEMU could not be started" : interpretProbe(result).detail;
    return { svm: false, npt: false, detail: `QEMU did not expand CPU model max: ${why}` };
  }
  const { svm, npt } = expansion;
  const detail = svm && npt
    ? "-cpu max offers SVM with NPT"
    : `-cpu max offers ${svm ? "SVM without NPT" : "no SVM"}`;
  return { svm, npt, detail };
}

/** L0's TSC frequency from `dmesg`, else from the journal's kernel messages of this boot. */
async function tscFacts(runner: Runner): Promise<number | null> {
  const dmesg = await tryRun(runner, "dmesg", [], { timeoutMs: 10_000 });
  const fromDmesg = dmesg?.code === 0 ? parseTscKhz(dmesg.stdout) : null;
  if (fromDmesg !== null) return fromDmesg;
  const journal = await tryRun(runner, "journalctl", ["-k", "-b", "0", "-q", "--no-pager"], {
    timeoutMs: 10_000,
  });
  return journal?.code === 0 ? parseTscKhz(journal.stdout) : null;
}

interface KernelSourceFacts {
  sources: Record<string, string>;
  versions: Record<string, string | null>;
  packages: Record<string, string>;
}

async function kernelSourceFacts(
  srcDir: string,
  fetchedDir: string,
  runner: Runner,
  files: HostFiles,
): Promise<KernelSourceFacts> {
  const sources: Record<string, string> = {};
  const versions: Record<string, string | null> = {};
  const packages: Record<string, string> = {};
  for (const name of await files.readDir(srcDir)) {
    const series = kernelSourceSeries(name);
    if (!series) continue;
    const tarball = `${srcDir}/${name}`;
    sources[series] = tarball;
    // The package's version is exact and costs milliseconds; reading the Makefile out of the
    // tarball (about 0.5 s) covers a tarball that no package owns.
    const pkg = await tryRun(runner, "dpkg-query", [
      "-W",
      "-f=${db:Status-Abbrev} ${Version}",
      `linux-source-${series}`,
    ], { timeoutMs: 10_000 });
    const m = pkg?.code === 0 ? pkg.stdout.match(/^.i.?\s+(\S+)/) : null;
    if (m) {
      versions[series] = debianUpstreamVersion(m[1]);
      packages[series] = `linux-source-${series} ${m[1]} (installed)`;
      continue;
    }
    packages[series] = "no package: the version is read from the tarball";
    const tar = await tryRun(
      runner,
      "tar",
      ["-xOf", tarball, "--occurrence=1", `linux-source-${series}/Makefile`],
      { timeoutMs: 60_000 },
    );
    versions[series] = tar?.code === 0 ? parseKernelMakefile(tar.stdout) : null;
  }
  // Fetched sources count only with their record, which the fetch writes last; an installed
  // package of the same series wins.
  for (const name of await files.readDir(fetchedDir)) {
    const series = kernelSourceSeries(name);
    if (!series || series in sources) continue;
    const text = await files.readText(`${fetchedDir}/linux-source-${series}.fetched`);
    const record = text === null ? null : parseFetchedRecord(text);
    if (!record) continue;
    sources[series] = `${fetchedDir}/${name}`;
    versions[series] = debianUpstreamVersion(record.version);
    packages[series] = `${record.package} ${record.version} (fetched from ${record.suite}` +
      (record.fetched ? ` on ${record.fetched})` : ")");
  }
  return { sources, versions, packages };
}

async function diskFacts(dir: string, runner: Runner, files: HostFiles): Promise<DiskFacts> {
  const measured = await nearestExisting(dir, files);
  const df = await tryRun(runner, "df", ["--output=avail", "-B1", measured], { timeoutMs: 10_000 });
  return { dir, measured, freeBytes: df?.code === 0 ? parseDfAvail(df.stdout) : null };
}

async function toolFacts(
  name: string,
  versionArgs: string[],
  searchPath: string,
  runner: Runner,
  files: HostFiles,
): Promise<ToolFacts> {
  const path = await findProgram(name, searchPath, files);
  if (!path) return { path: null, version: null };
  const r = await tryRun(runner, path, versionArgs, { timeoutMs: 10_000 });
  return { path, version: r?.code === 0 ? firstVersion(r.stdout) : null };
}

const REPO = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

function defaultCache(): string {
  return Deno.env.get("VTCIO_CACHE") ?? `${REPO}/.cache`;
}

function defaultDirs(): string[] {
  return [Deno.env.get("VTCIO_RESULTS") ?? `${REPO}/results`, defaultCache()];
}

/**
 * Reads this machine's facts. Every program goes through `runner` and every file through
 * `files`, so tests can describe any machine. Takes well under a second when all is installed.
 */
export async function hostFacts(
  runner: Runner = run,
  files: HostFiles = systemFiles,
  options: HostFactsOptions = {},
): Promise<HostFacts> {
  const searchPath = `${options.path ?? Deno.env.get("PATH") ?? ""}:${SBIN}`;
  const timeoutMs = options.probeTimeoutMs ?? 5000;
  const dirs = options.dirs ?? defaultDirs();
  const repo = options.repo ?? REPO;
  const table = await files.readText(`${repo}/${KERNEL_SOURCES_TABLE}`);
  const fetchableKernels = table === null ? {} : parseKernelSourcesTable(table);

  const qemuPath = await findProgram(QEMU, searchPath, files);
  const qemuVersion = qemuPath
    ? await tryRun(runner, qemuPath, ["--version"], { timeoutMs: 10_000 })
    : null;
  const qemu: QemuFacts = {
    path: qemuPath ?? QEMU,
    found: qemuPath !== null,
    version: qemuVersion?.code === 0 ? parseQemuVersion(qemuVersion.stdout) : null,
  };
  const cpuInfo = parseCpuInfo((await files.readText("/proc/cpuinfo")) ?? "");
  const { processors, ...cpu } = cpuInfo;

  const [kvm, tcg, disks, memText, nproc, kernels, busybox, debootstrap, ccache, gcc, tscKhz] =
    await Promise.all([
      kvmFacts(cpu, qemu, runner, files, timeoutMs),
      tcgFacts(qemu, runner, timeoutMs),
      Promise.all(dirs.map((d) => diskFacts(d, runner, files))),
      files.readText("/proc/meminfo"),
      tryRun(runner, "nproc", [], { timeoutMs: 10_000 }),
      kernelSourceFacts(
        options.srcDir ?? "/usr/src",
        options.fetchedSrcDir ?? fetchedSourcesDir(defaultCache()),
        runner,
        files,
      ),
      findProgram("busybox", searchPath, files),
      findProgram("debootstrap", searchPath, files),
      toolFacts("ccache", ["--version"], searchPath, runner, files),
      toolFacts("gcc", ["-dumpfullversion", "-dumpversion"], searchPath, runner, files),
      tscFacts(runner),
    ]);

  const fileOut = busybox
    ? await tryRun(runner, "file", ["-bL", busybox], { timeoutMs: 10_000 })
    : null;
  const cores = nproc?.code === 0 && /^\d+$/.test(nproc.stdout.trim())
    ? Number(nproc.stdout.trim())
    : Math.max(processors, 1);

  return {
    qemu,
    cpu,
    kvm,
    tcg,
    ...chooseAccel(kvm, tcg),
    disks,
    memory: parseMemInfo(memText ?? ""),
    cores,
    kernelSources: kernels.sources,
    kernelVersions: kernels.versions,
    kernelPackages: kernels.packages,
    fetchableKernels,
    busybox,
    busyboxStatic: fileOut?.code === 0 ? isStaticBinary(fileOut.stdout) : null,
    debootstrap,
    ccache,
    gcc,
    tscKhz,
  };
}
