/**
 * Doctor: judges {@link HostFacts} row by row ("ok", "warn", "missing"), each row with what to do
 * about it, and renders them as a table. `missing` blocks a matrix run; `warn` does not.
 * docs/troubleshooting.md has one section per check.
 *
 * @module
 */
import type { HostFacts } from "./host_facts.ts";

export type DoctorStatus = "ok" | "warn" | "missing";

export interface DoctorRow {
  /** What is checked, e.g. "QEMU". */
  check: string;
  status: DoctorStatus;
  /** What was found. */
  detail: string;
  /** What to do; empty for ok rows. */
  fix: string;
}

const GIB = 1024 ** 3;
/** Below this much free disk a row warns. */
export const DISK_WARN_BYTES = 20 * GIB;
/** Below this much free disk a row is missing: kernel builds would fill the disk. */
export const DISK_MISSING_BYTES = 8 * GIB;
/** Below this much available memory a row warns. */
export const MEMORY_WARN_BYTES = 4 * GIB;
/** Kernel series the matrices need, from Debian packages (setup/packages.txt). */
export const REQUIRED_KERNELS = ["6.1", "6.12"];

const SETUP = "Run ./vtcio setup";
const DOC = "docs/troubleshooting.md";

/** 21474836480 -> "20.0 GiB". */
export function formatBytes(bytes: number): string {
  return `${(bytes / GIB).toFixed(1)} GiB`;
}

function row(check: string, status: DoctorStatus, detail: string, fix = ""): DoctorRow {
  return { check, status, detail, fix: status === "ok" ? "" : fix };
}

function qemuRow(f: HostFacts): DoctorRow {
  if (!f.qemu.found) {
    return row("QEMU", "missing", "qemu-system-x86_64 is not installed", SETUP);
  }
  if (f.qemu.version === null) {
    return row(
      "QEMU",
      "missing",
      `${f.qemu.path} did not answer --version`,
      `Run ${f.qemu.path} --version to see why; reinstall with apt-get install --reinstall qemu-system-x86`,
    );
  }
  return row("QEMU", "ok", `${f.qemu.version} at ${f.qemu.path}`);
}

function tcgWorks(f: HostFacts): boolean {
  return f.tcg.svm && f.tcg.npt;
}

function kvmRow(f: HostFacts): DoctorRow {
  const check = "KVM for ordinary guests";
  if (f.kvm.usable && f.kvm.nested) {
    return row(check, "ok", `${f.kvm.detail}; nested virtualization is on`);
  }
  if (f.kvm.usable) {
    const mod = f.cpu.vmx ? "kvm_intel" : "kvm_amd";
    return row(
      check,
      "warn",
      `${f.kvm.detail}, but nested virtualization is off: nested runs use TCG and are slower`,
      `Turn nesting on (as root, no VM running): modprobe -r ${mod} && modprobe ${mod} nested=1; ` +
        `keep it with "options ${mod} nested=1" in /etc/modprobe.d/kvm-nested.conf`,
    );
  }
  if (tcgWorks(f)) {
    return row(
      check,
      "warn",
      `${f.kvm.detail}: nested runs use TCG with an emulated SVM and are slower`,
      `Nothing needed to run the matrix; for speed use a host with VT-x or AMD-V and nested KVM (${DOC}#kvm-for-ordinary-guests)`,
    );
  }
  return row(
    check,
    "missing",
    `${f.kvm.detail}, and TCG offers no SVM to fall back on`,
    `Use a host with VT-x or AMD-V and nested KVM, or a QEMU whose TCG emulates SVM (${DOC}#kvm-for-ordinary-guests)`,
  );
}

function tcgRow(f: HostFacts): DoctorRow {
  const check = "TCG with SVM";
  if (tcgWorks(f)) return row(check, "ok", f.tcg.detail);
  const fix = `${SETUP} to get Debian's QEMU (7.2 emulates SVM with NPT); see ${DOC}#tcg-with-svm`;
  if (f.accel === "kvm") {
    return row(check, "warn", `${f.tcg.detail} (not needed while nested KVM works)`, fix);
  }
  return row(check, "missing", f.tcg.detail, fix);
}

function accelRow(f: HostFacts): DoctorRow {
  const detail = `${f.accel} with -cpu ${f.accelCpu}: ${f.accelReason}`;
  if (f.accel === "tcg" && !tcgWorks(f)) {
    return row(
      "Accel mode",
      "missing",
      detail,
      "L1 would get no virtualization: fix the KVM or TCG row",
    );
  }
  return row("Accel mode", "ok", detail);
}

/** Under TCG, whether L1 is told its TSC rate (else it calibrates, and under load fails). */
function tscRow(f: HostFacts): DoctorRow {
  const check = "L1 TSC frequency";
  if (f.accel === "kvm") return row(check, "ok", "not needed: L1 runs under KVM (kvmclock)");
  if (f.tscKhz !== null) {
    return row(check, "ok", `L1 gets tsc_early_khz=${f.tscKhz} (L0's TSC, from its kernel log)`);
  }
  return row(
    check,
    "warn",
    "L0's TSC frequency is not in its kernel log: L1 calibrates against the emulated PIT, " +
      "which fails under load and leaves L2 unable to start (such cells stop early and are retried)",
    `Run as root so that dmesg shows the "tsc: Detected ... MHz" line of L0's boot (${DOC}#l1-tsc-frequency)`,
  );
}

function diskRows(f: HostFacts): DoctorRow[] {
  return f.disks.map((d) => {
    const check = `Free disk (${d.dir.replace(/\/+$/, "").split("/").pop() || d.dir})`;
    const fix =
      `Free space on the file system of ${d.measured} (old runs in results/, ccache -C), or point VTCIO_RESULTS and VTCIO_CACHE at a bigger disk`;
    if (d.freeBytes === null) {
      return row(
        check,
        "warn",
        `Could not measure free space in ${d.measured}`,
        `Run df ${d.measured}`,
      );
    }
    const detail = `${formatBytes(d.freeBytes)} free in ${d.measured}`;
    if (d.freeBytes < DISK_MISSING_BYTES) {
      return row(check, "missing", `${detail} (below ${formatBytes(DISK_MISSING_BYTES)})`, fix);
    }
    if (d.freeBytes < DISK_WARN_BYTES) {
      return row(check, "warn", `${detail} (below ${formatBytes(DISK_WARN_BYTES)})`, fix);
    }
    return row(check, "ok", detail);
  });
}

function memoryRow(f: HostFacts): DoctorRow {
  const { totalBytes, availableBytes } = f.memory;
  if (availableBytes === null) {
    return row("Memory", "warn", "Could not read /proc/meminfo", "Check that /proc is mounted");
  }
  const detail = `${formatBytes(availableBytes)} available of ${
    totalBytes === null ? "?" : formatBytes(totalBytes)
  }`;
  if (availableBytes < MEMORY_WARN_BYTES) {
    return row(
      "Memory",
      "warn",
      `${detail} (below ${formatBytes(MEMORY_WARN_BYTES)})`,
      "Stop other programs, or run one cell at a time with --jobs 1",
    );
  }
  return row("Memory", "ok", detail);
}

function kernelRows(f: HostFacts): DoctorRow[] {
  const found = (series: string) => {
    const tarball = f.kernelSources[series];
    const version = f.kernelVersions[series] ?? "version unknown";
    return tarball ? `${version} at ${tarball}` : null;
  };
  const rows = REQUIRED_KERNELS.map((series) => {
    const detail = found(series);
    const check = `Kernel source ${series}`;
    return detail
      ? row(check, "ok", detail)
      : row(check, "missing", `No /usr/src/linux-source-${series}.tar.xz`, SETUP);
  });
  // Fetched series (setup/kernel-sources.txt): a run that has cells of one fetches it itself.
  for (const [series, suite] of Object.entries(f.fetchableKernels)) {
    if (REQUIRED_KERNELS.includes(series)) continue;
    const detail = found(series);
    const check = `Kernel source ${series} (optional)`;
    const pkg = f.kernelPackages[series];
    rows.push(
      detail ? row(check, "ok", pkg ? `${detail}, ${pkg}` : detail) : row(
        check,
        "warn",
        `Not fetched yet: only cells with kernel ${series} need linux-source-${series}, and a ` +
          `matrix run with such a cell fetches it from ${suite} first (about 165 MB)`,
        `./vtcio setup --kernel ${series} fetches it now, without installing anything ` +
          `(${DOC}#kernel-source-72-optional)`,
      ),
    );
  }
  return rows;
}

function toolRows(f: HostFacts): DoctorRow[] {
  const rows: DoctorRow[] = [];
  if (f.busybox === null) {
    rows.push(row("busybox-static", "missing", "No busybox", SETUP));
  } else if (f.busyboxStatic === false) {
    rows.push(row(
      "busybox-static",
      "missing",
      `${f.busybox} is dynamically linked: the initramfs has no libraries for it`,
      `${SETUP} (installs busybox-static, which replaces busybox)`,
    ));
  } else if (f.busyboxStatic === null) {
    rows.push(row(
      "busybox-static",
      "warn",
      `${f.busybox}: could not tell whether it is statically linked`,
      `${SETUP} (installs file and busybox-static)`,
    ));
  } else {
    rows.push(row("busybox-static", "ok", `${f.busybox}, statically linked`));
  }
  rows.push(
    f.debootstrap
      ? row("debootstrap", "ok", f.debootstrap)
      : row("debootstrap", "missing", "No debootstrap: Debian guest images cannot be built", SETUP),
  );
  rows.push(
    f.ccache.path
      ? row("ccache", "ok", `${f.ccache.version ?? "version unknown"} at ${f.ccache.path}`)
      : row("ccache", "warn", "No ccache: every kernel build starts from scratch", SETUP),
  );
  rows.push(
    f.gcc.path
      ? row("Compiler", "ok", `gcc ${f.gcc.version ?? "version unknown"} at ${f.gcc.path}`)
      : row("Compiler", "missing", "No gcc: kernels cannot be built", SETUP),
  );
  return rows;
}

/** One row per check, in the order of docs/troubleshooting.md. */
export function doctorRows(facts: HostFacts): DoctorRow[] {
  return [
    qemuRow(facts),
    kvmRow(facts),
    tcgRow(facts),
    accelRow(facts),
    tscRow(facts),
    ...diskRows(facts),
    memoryRow(facts),
    ...kernelRows(facts),
    ...toolRows(facts),
  ];
}

/** True when nothing is missing (warnings allowed): the matrix can run. */
export function doctorOk(rows: DoctorRow[]): boolean {
  return rows.every((r) => r.status !== "missing");
}

/** An aligned table of the rows, then one "what to do" line per row that is not ok. */
export function renderDoctor(rows: DoctorRow[]): string {
  const header = { check: "CHECK", status: "STATUS", detail: "DETAIL" };
  const all = [header, ...rows];
  const w1 = Math.max(...all.map((r) => r.check.length));
  const w2 = Math.max(...all.map((r) => r.status.length));
  const lines = all.map((r) =>
    `${r.check.padEnd(w1)}  ${r.status.padEnd(w2)}  ${r.detail}`.trimEnd()
  );
  const todo = rows.filter((r) => r.status !== "ok");
  lines.push("");
  if (todo.length === 0) {
    lines.push("All checks passed");
  } else {
    lines.push("What to do:");
    for (const r of todo) lines.push(`  ${r.check}: ${r.fix}`);
    if (doctorOk(rows)) lines.push("", "Nothing is missing: the matrix can run");
  }
  return lines.join("\n");
}
