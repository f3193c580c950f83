import assert from "node:assert/strict";
import {
  chooseAccel,
  debianUpstreamVersion,
  findProgram,
  firstVersion,
  hostFacts,
  type HostFiles,
  interpretProbe,
  isStaticBinary,
  kernelSourceSeries,
  type KvmFacts,
  parseCpuInfo,
  parseCpuModelExpansion,
  parseDfAvail,
  parseKernelMakefile,
  parseMemInfo,
  parseNestedParam,
  parseQemuVersion,
  parseTscKhz,
  probeFirmware,
  type TcgFacts,
} from "./host_facts.ts";
import type { Runner, RunOptions, RunResult } from "./proc.ts";

// ---- Fixtures -----------------------------------------------------------------------------------

const QEMU_VERSION = `QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)
Copyright (c) 2003-2022 Fabrice Bellard and the QEMU Project developers
`;

function cpuinfo(vendor: string, model: string, flags: string, processors = 2): string {
  return Array.from({ length: processors }, (_, i) =>
    `processor\t: ${i}
vendor_id\t: ${vendor}
cpu family\t: 25
model name\t: ${model}
flags\t\t: fpu vme de pse tsc msr pae ${flags} svm_lock_like sse sse2
bugs\t\t: sysret_ss_attrs
`).join("\n");
}

/** Like the machines vtcio runs on: no vmx/svm flag, /dev/kvm from kvm_pvm. */
const CPUINFO_PVM = cpuinfo("AuthenticAMD", "AMD EPYC", "hypervisor");
const CPUINFO_INTEL = cpuinfo("GenuineIntel", "Intel(R) Xeon(R) Gold 6338", "vmx ept", 4);

const MEMINFO = `MemTotal:       24684084 kB
MemFree:        22091856 kB
MemAvailable:   23924764 kB
Buffers:          123456 kB
`;

const QMP_GREETING =
  `{"QMP": {"version": {"qemu": {"micro": 22, "minor": 2, "major": 7}, "package": "Debian"}, ` +
  `"capabilities": ["oob"]}}`;

function qmpExpansion(props: Record<string, unknown>): string {
  return [
    QMP_GREETING,
    `{"return": {}}`,
    JSON.stringify({ return: { model: { name: "max", props } } }),
    `{"timestamp": {"seconds": 1, "microseconds": 2}, "event": "SHUTDOWN", ` +
    `"data": {"guest": false, "reason": "host-qmp-quit"}}`,
    `{"return": {}}`,
    "",
  ].join("\n");
}

const MAKEFILE_7_2 = `# SPDX-License-Identifier: GPL-2.0
VERSION = 7
PATCHLEVEL = 2
SUBLEVEL = 13
EXTRAVERSION =
NAME = Baby Opossum Posse
`;

/** The TSC lines of this project's machines' kernel log, among others. */
const DMESG = `[    0.000000] [Firmware Bug]: TSC doesn't count with P0 frequency!
[    0.000062] tsc: Detected 2596.140 MHz processor
[    0.097561] TSC deadline timer available
[    0.379505] clocksource: tsc: mask: 0xffffffffffffffff max_cycles: 0x256bfd9ef1e
`;

// ---- Fakes --------------------------------------------------------------------------------------

interface Call {
  cmd: string;
  args: string[];
  opts?: RunOptions;
}

type Handler = (args: string[], opts?: RunOptions) => Partial<RunResult>;

/** A Runner answering by program base name; an unknown program fails to start (NotFound). */
function fakeRunner(handlers: Record<string, Handler>): { runner: Runner; calls: Call[] } {
  const calls: Call[] = [];
  const runner: Runner = (cmd, args, opts) => {
    calls.push({ cmd, args, opts });
    const handler = handlers[cmd.split("/").pop()!];
    if (!handler) return Promise.reject(new Deno.errors.NotFound(`No such program: ${cmd}`));
    return Promise.resolve({
      code: 0,
      signal: null,
      stdout: "",
      stderr: "",
      timedOut: false,
      ...handler(args, opts),
    });
  };
  return { runner, calls };
}

interface FakeMachine {
  text?: Record<string, string>;
  executables?: string[];
  dirs?: Record<string, string[]>;
  exist?: string[];
}

function fakeFiles(m: FakeMachine): { files: HostFiles; temps: Set<string>; removed: string[] } {
  const temps = new Set<string>();
  const removed: string[] = [];
  const text = m.text ?? {};
  const executables = new Set(m.executables ?? []);
  const dirs = m.dirs ?? {};
  const exist = new Set(m.exist ?? []);
  const files: HostFiles = {
    readText: (p) => Promise.resolve(text[p] ?? null),
    exists: (p) =>
      Promise.resolve(p in text || executables.has(p) || p in dirs || exist.has(p) || temps.has(p)),
    isExecutable: (p) => Promise.resolve(executables.has(p)),
    readDir: (p) => Promise.resolve([...(dirs[p] ?? [])].sort()),
    writeTemp: (data) => {
      assert.equal(data.length, 0x10000);
      const p = `/tmp/fake-probe-${temps.size}`;
      temps.add(p);
      return Promise.resolve(p);
    },
    remove: (p) => {
      temps.delete(p);
      removed.push(p);
      return Promise.resolve();
    },
  };
  return { files, temps, removed };
}

const TOOLS = [
  "/usr/bin/qemu-system-x86_64",
  "/usr/bin/busybox",
  "/usr/sbin/debootstrap",
  "/usr/bin/ccache",
  "/usr/bin/gcc",
];

/** Programs of a machine with everything installed; `qemu` answers QEMU's invocations. */
function handlers(qemu: Handler): Record<string, Handler> {
  return {
    "qemu-system-x86_64": (args, opts) =>
      args[0] === "--version" ? { stdout: QEMU_VERSION } : qemu(args, opts),
    df: () => ({ stdout: "      Avail\n79555235840\n" }),
    nproc: () => ({ stdout: "2\n" }),
    "dpkg-query": (args) =>
      args.at(-1) === "linux-source-6.1"
        ? { stdout: "ii  6.1.192-2" }
        : { code: 1, stderr: `dpkg-query: no packages found matching ${args.at(-1)}\n` },
    tar: (args) =>
      args.includes("linux-source-7.2/Makefile")
        ? { stdout: MAKEFILE_7_2 }
        : { code: 2, stderr: "tar: Not found in archive\n" },
    file: () => ({ stdout: "ELF 64-bit LSB executable, x86-64, statically linked, stripped\n" }),
    ccache: () => ({ stdout: "ccache version 4.7.5\nFeatures: file-storage\n" }),
    gcc: () => ({ stdout: "12.2.0\n" }),
    dmesg: () => ({ stdout: DMESG }),
  };
}

/** QEMU of a host whose TCG offers SVM and whose KVM probe exits with `kvmExit`. */
function qemuAnswers(kvmExit: number): Handler {
  return (args) => {
    if (args.includes("-qmp")) return { stdout: qmpExpansion({ svm: true, npt: true }) };
    if (args[1] === "kvm") return { code: kvmExit };
    return { code: 1, stderr: "unexpected arguments" };
  };
}

function machine(cpu: string, extra: FakeMachine = {}): FakeMachine {
  return {
    text: { "/proc/cpuinfo": cpu, "/proc/meminfo": MEMINFO, ...extra.text },
    executables: [...TOOLS, ...(extra.executables ?? [])],
    dirs: {
      "/usr/src": ["linux-source-6.1.tar.xz", "linux-source-7.2.tar.xz", "python3.11"],
      ...extra.dirs,
    },
    exist: ["/work/repo", ...(extra.exist ?? [])],
  };
}

const OPTIONS = { path: "/usr/bin:/bin", dirs: ["/work/repo/results", "/work/repo/.cache"] };

// ---- Parsers ------------------------------------------------------------------------------------

Deno.test("parseQemuVersion() reads Debian's version line", () => {
  assert.equal(parseQemuVersion(QEMU_VERSION), "7.2.22");
  assert.equal(parseQemuVersion("QEMU emulator version 9.1.0\n"), "9.1.0");
  assert.equal(parseQemuVersion("bash: qemu: not found"), null);
});

Deno.test("parseCpuInfo() reads vendor, model, whole-word flags and processors", () => {
  assert.deepEqual(parseCpuInfo(CPUINFO_PVM), {
    vendor: "AuthenticAMD",
    model: "AMD EPYC",
    vmx: false,
    svm: false,
    processors: 2,
  });
  const intel = parseCpuInfo(CPUINFO_INTEL);
  assert.equal(intel.vmx, true);
  assert.equal(intel.svm, false);
  assert.equal(intel.processors, 4);
  assert.deepEqual(parseCpuInfo(""), {
    vendor: null,
    model: null,
    vmx: false,
    svm: false,
    processors: 0,
  });
});

Deno.test("parseMemInfo() converts kB to bytes", () => {
  assert.deepEqual(parseMemInfo(MEMINFO), {
    totalBytes: 24684084 * 1024,
    availableBytes: 23924764 * 1024,
  });
  assert.deepEqual(parseMemInfo("MemTotal: 1 kB\n"), { totalBytes: 1024, availableBytes: null });
});

Deno.test("parseDfAvail() reads the number under the header", () => {
  assert.equal(parseDfAvail("      Avail\n79555235840\n"), 79555235840);
  assert.equal(parseDfAvail("      Avail\n"), null);
  assert.equal(parseDfAvail(""), null);
});

Deno.test("parseNestedParam() accepts Y and 1", () => {
  assert.equal(parseNestedParam("Y\n"), true);
  assert.equal(parseNestedParam("1\n"), true);
  assert.equal(parseNestedParam("N\n"), false);
  assert.equal(parseNestedParam("0"), false);
  assert.equal(parseNestedParam(null), false);
});

Deno.test("parseCpuModelExpansion() finds svm and npt among QMP messages", () => {
  assert.deepEqual(parseCpuModelExpansion(qmpExpansion({ svm: true, npt: true, vmx: false })), {
    svm: true,
    npt: true,
  });
  assert.deepEqual(parseCpuModelExpansion(qmpExpansion({ svm: true })), { svm: true, npt: false });
  assert.deepEqual(parseCpuModelExpansion(qmpExpansion({ vmx: true })), {
    svm: false,
    npt: false,
  });
  assert.equal(
    parseCpuModelExpansion(`${QMP_GREETING}\n{"error": {"class": "X"}}\nnot json`),
    null,
  );
});

Deno.test("parseTscKhz() prefers the refined TSC rate, then the TSC line, then the processor's", () => {
  assert.equal(parseTscKhz(DMESG), 2596140);
  const detected = "[    0.000000] tsc: Detected 2400.000 MHz processor\n";
  const tsc = "[    0.000000] tsc: Detected 2399.987 MHz TSC\n";
  const refined = (mhz: string) =>
    `[    1.512345] tsc: Refined TSC clocksource calibration: ${mhz} MHz\n`;
  assert.equal(parseTscKhz(detected + tsc), 2399987);
  assert.equal(parseTscKhz(detected + refined("2399.9") + refined("2400.001")), 2400001);
  assert.equal(parseTscKhz("kernel: tsc: Detected 3000 MHz processor"), 3000000, "journal form");
  assert.equal(parseTscKhz("[    0.1] tsc: Unable to calibrate against PIT\n"), null);
  assert.equal(parseTscKhz("[    0.1] tsc: Detected 0.000 MHz processor\n"), null);
  assert.equal(parseTscKhz(""), null);
});

Deno.test("parseKernelMakefile() joins VERSION, PATCHLEVEL, SUBLEVEL and EXTRAVERSION", () => {
  assert.equal(parseKernelMakefile(MAKEFILE_7_2), "7.2.13");
  assert.equal(
    parseKernelMakefile("VERSION = 6\nPATCHLEVEL = 13\nSUBLEVEL = 0\nEXTRAVERSION = -rc3\n"),
    "6.13.0-rc3",
  );
  assert.equal(parseKernelMakefile("VERSION = 6\n"), null);
});

Deno.test("debianUpstreamVersion() drops the epoch and Debian revision", () => {
  assert.equal(debianUpstreamVersion("6.1.192-2"), "6.1.192");
  assert.equal(debianUpstreamVersion("6.12.117-1~deb12u1"), "6.12.117");
  assert.equal(debianUpstreamVersion("1:7.2.13-1"), "7.2.13");
  assert.equal(debianUpstreamVersion("6.13~rc3-1~exp1"), "6.13-rc3");
});

Deno.test("kernelSourceSeries() recognizes linux-source tarballs only", () => {
  assert.equal(kernelSourceSeries("linux-source-6.1.tar.xz"), "6.1");
  assert.equal(kernelSourceSeries("linux-source-6.12.tar.bz2"), "6.12");
  assert.equal(kernelSourceSeries("linux-source-6.1"), null);
  assert.equal(kernelSourceSeries("linux-headers-6.1.tar.xz"), null);
  assert.equal(kernelSourceSeries("python3.11"), null);
});

Deno.test("firstVersion() and isStaticBinary() read tool output", () => {
  assert.equal(
    firstVersion("ccache version 4.7.5\nCopyright (C) 2002-2007 Andrew Tridgell"),
    "4.7.5",
  );
  assert.equal(firstVersion("12.2.0\n"), "12.2.0");
  assert.equal(firstVersion("no digits"), null);
  assert.equal(isStaticBinary("ELF 64-bit LSB executable, x86-64, statically linked"), true);
  assert.equal(isStaticBinary("ELF 64-bit LSB pie executable, static-pie linked"), true);
  assert.equal(
    isStaticBinary("ELF 64-bit LSB pie executable, dynamically linked, interpreter /lib64/ld"),
    false,
  );
});

Deno.test("probeFirmware() puts the exit sequence at the reset vector", () => {
  const fw = probeFirmware();
  assert.equal(fw.length, 65536);
  assert.deepEqual([...fw.slice(0xfff0, 0xfff7)], [0xb0, 0x01, 0xe6, 0xf4, 0xf4, 0xeb, 0xfd]);
  assert.equal(fw[0], 0xf4);
});

Deno.test("interpretProbe() accepts only exit status 3", () => {
  const r = (over: Partial<RunResult>): RunResult => ({
    code: 0,
    signal: null,
    stdout: "",
    stderr: "",
    timedOut: false,
    ...over,
  });
  assert.deepEqual(interpretProbe(r({ code: 3 })), { ran: true, detail: "" });
  assert.deepEqual(
    interpretProbe(
      r({
        code: 134,
        signal: "SIGABRT",
        stderr: "\nqemu-system-x86_64: error: failed to set MSR 0x10a to 0x69\nassertion\n",
      }),
    ),
    {
      ran: false,
      detail:
        "QEMU was killed by SIGABRT: qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69",
    },
  );
  assert.deepEqual(interpretProbe(r({ code: 1 })), { ran: false, detail: "QEMU exited with 1" });
  assert.equal(interpretProbe(r({ code: 137, timedOut: true })).ran, false);
  assert.match(interpretProbe(r({ code: 137, timedOut: true })).detail, /timeout/);
  assert.equal(interpretProbe(null).ran, false);
});

Deno.test("chooseAccel() needs usable KVM and nesting for kvm, else tcg with -cpu max", () => {
  const kvm = (usable: boolean, nested: boolean): KvmFacts => ({
    device: true,
    modules: ["kvm_intel"],
    usable,
    nested,
    detail: "",
  });
  const tcg: TcgFacts = { svm: true, npt: true, detail: "" };
  assert.deepEqual(chooseAccel(kvm(true, true), tcg), {
    accel: "kvm",
    accelCpu: "host",
    accelReason: "KVM runs ordinary guests and nested virtualization is on",
  });
  const off = chooseAccel(kvm(true, false), tcg);
  assert.equal(off.accel, "tcg");
  assert.equal(off.accelCpu, "max");
  assert.match(off.accelReason, /nested virtualization is off/);
  const none = chooseAccel(kvm(false, false), { svm: false, npt: false, detail: "" });
  assert.equal(none.accel, "tcg");
  assert.match(none.accelReason, /not usable.*does not offer SVM/);
});

Deno.test("findProgram() searches the path in order and skips empty entries", async () => {
  const { files } = fakeFiles({ executables: ["/bin/gcc", "/usr/bin/gcc"] });
  assert.equal(await findProgram("gcc", ":/usr/bin/:/bin", files), "/usr/bin/gcc");
  assert.equal(await findProgram("cc", "/usr/bin:/bin", files), null);
});

// ---- hostFacts() on described machines ----------------------------------------------------------

Deno.test("hostFacts() on a kvm_pvm host picks TCG without probing KVM", async () => {
  const { runner, calls } = fakeRunner(handlers(qemuAnswers(3)));
  const { files } = fakeFiles(machine(CPUINFO_PVM, { exist: ["/dev/kvm", "/sys/module/kvm_pvm"] }));
  const f = await hostFacts(runner, files, OPTIONS);

  assert.deepEqual(f.qemu, { path: "/usr/bin/qemu-system-x86_64", found: true, version: "7.2.22" });
  assert.equal(f.kvm.device, true);
  assert.deepEqual(f.kvm.modules, ["kvm_pvm"]);
  assert.equal(f.kvm.usable, false);
  assert.match(f.kvm.detail, /no vmx or svm flag.*kvm_pvm/);
  assert.equal(calls.some((c) => c.args.includes("kvm")), false, "KVM must not be probed");
  assert.deepEqual([f.tcg.svm, f.tcg.npt], [true, true]);
  assert.equal(f.accel, "tcg");
  assert.equal(f.accelCpu, "max");

  assert.deepEqual(f.kernelSources, {
    "6.1": "/usr/src/linux-source-6.1.tar.xz",
    "7.2": "/usr/src/linux-source-7.2.tar.xz",
  });
  assert.deepEqual(f.kernelVersions, { "6.1": "6.1.192", "7.2": "7.2.13" });
  assert.deepEqual(f.disks, [
    { dir: "/work/repo/results", measured: "/work/repo", freeBytes: 79555235840 },
    { dir: "/work/repo/.cache", measured: "/work/repo", freeBytes: 79555235840 },
  ]);
  assert.deepEqual(f.memory, { totalBytes: 24684084 * 1024, availableBytes: 23924764 * 1024 });
  assert.equal(f.cores, 2);
  assert.equal(f.busybox, "/usr/bin/busybox");
  assert.equal(f.busyboxStatic, true);
  assert.equal(f.debootstrap, "/usr/sbin/debootstrap", "sbin is searched even if not on PATH");
  assert.deepEqual(f.ccache, { path: "/usr/bin/ccache", version: "4.7.5" });
  assert.deepEqual(f.gcc, { path: "/usr/bin/gcc", version: "12.2.0" });
  assert.equal(f.tscKhz, 2596140);
  assert.equal(calls.some((c) => c.cmd === "journalctl"), false, "dmesg told it");
  for (const c of calls) assert.ok(c.opts?.timeoutMs, `${c.cmd} runs with a timeout`);
});

Deno.test("hostFacts() on an Intel host with nested KVM picks kvm and cleans up the probe", async () => {
  const { runner, calls } = fakeRunner(handlers(qemuAnswers(3)));
  const { files, temps, removed } = fakeFiles(machine(CPUINFO_INTEL, {
    exist: ["/dev/kvm", "/sys/module/kvm_intel"],
    text: { "/sys/module/kvm_intel/parameters/nested": "Y\n" },
  }));
  const f = await hostFacts(runner, files, OPTIONS);

  assert.equal(f.kvm.usable, true);
  assert.equal(f.kvm.nested, true);
  assert.deepEqual(f.kvm.modules, ["kvm_intel"]);
  assert.equal(f.accel, "kvm");
  assert.equal(f.accelCpu, "host");
  const probe = calls.find((c) => c.args.includes("kvm"))!;
  assert.deepEqual(probe.args.slice(0, 4), ["-accel", "kvm", "-cpu", "host"]);
  assert.ok(probe.args.includes("isa-debug-exit,iobase=0xf4,iosize=1"));
  assert.equal(probe.opts?.timeoutMs, 5000);
  assert.equal(temps.size, 0);
  assert.deepEqual(removed, [probe.args[probe.args.indexOf("-bios") + 1]]);
});

Deno.test("hostFacts() falls back to TCG when KVM runs guests but nesting is off", async () => {
  const { runner } = fakeRunner(handlers(qemuAnswers(3)));
  const { files } = fakeFiles(machine(CPUINFO_INTEL, {
    exist: ["/dev/kvm", "/sys/module/kvm_intel"],
    text: { "/sys/module/kvm_intel/parameters/nested": "N\n" },
  }));
  const f = await hostFacts(runner, files, OPTIONS);
  assert.equal(f.kvm.usable, true);
  assert.equal(f.kvm.nested, false);
  assert.equal(f.accel, "tcg");
  assert.match(f.accelReason, /nested virtualization is off/);
});

Deno.test("hostFacts() reports a failing KVM probe with QEMU's message", async () => {
  const { runner } = fakeRunner(
    handlers((args) =>
      args.includes("-qmp")
        ? { stdout: qmpExpansion({ svm: true, npt: true }) }
        : { code: 1, stderr: "Could not access KVM kernel module: Permission denied\n" }
    ),
  );
  const { files, temps } = fakeFiles(machine(CPUINFO_INTEL, {
    exist: ["/dev/kvm", "/sys/module/kvm_intel"],
    text: { "/sys/module/kvm_intel/parameters/nested": "Y\n" },
  }));
  const f = await hostFacts(runner, files, OPTIONS);
  assert.equal(f.kvm.usable, false);
  assert.match(f.kvm.detail, /did not run: QEMU exited with 1: Could not access KVM/);
  assert.equal(f.accel, "tcg");
  assert.equal(temps.size, 0);
});

Deno.test("hostFacts() without QEMU or tools reports them missing", async () => {
  const { runner, calls } = fakeRunner({});
  const { files } = fakeFiles({
    text: { "/proc/cpuinfo": CPUINFO_PVM },
    exist: ["/dev/kvm"],
  });
  const f = await hostFacts(runner, files, { ...OPTIONS, dirs: ["/nowhere/results"] });
  assert.deepEqual(f.qemu, { path: "qemu-system-x86_64", found: false, version: null });
  assert.deepEqual([f.tcg.svm, f.tcg.npt], [false, false]);
  assert.equal(f.kvm.usable, false);
  assert.equal(f.accel, "tcg");
  assert.deepEqual(f.disks, [{ dir: "/nowhere/results", measured: "/", freeBytes: null }]);
  assert.deepEqual(f.memory, { totalBytes: null, availableBytes: null });
  assert.equal(f.cores, 2, "processors of /proc/cpuinfo when nproc is missing");
  assert.deepEqual(f.kernelSources, {});
  assert.equal(f.busybox, null);
  assert.equal(f.busyboxStatic, null);
  assert.equal(f.debootstrap, null);
  assert.deepEqual(f.gcc, { path: null, version: null });
  assert.equal(f.tscKhz, null);
  assert.equal(calls.some((c) => c.cmd.includes("qemu")), false);
});

Deno.test("hostFacts() reads L0's TSC rate from the journal when dmesg is not allowed", async () => {
  const { runner, calls } = fakeRunner({
    ...handlers(qemuAnswers(3)),
    dmesg: () => ({ code: 1, stderr: "dmesg: read kernel buffer failed: Operation not permitted" }),
    journalctl: () => ({
      stdout: "Nov 25 02:51:07 vm kernel: tsc: Detected 2596.140 MHz processor\n",
    }),
  });
  const { files } = fakeFiles(machine(CPUINFO_PVM, { exist: ["/dev/kvm"] }));
  const f = await hostFacts(runner, files, OPTIONS);
  assert.equal(f.tscKhz, 2596140);
  assert.deepEqual(calls.find((c) => c.cmd === "journalctl")?.args, [
    "-k",
    "-b",
    "0",
    "-q",
    "--no-pager",
  ]);
});

Deno.test("hostFacts() finds fetched sources in the cache, with the version their record gives", async () => {
  const fetched = "/cache/linux-source";
  const { runner, calls } = fakeRunner(handlers(qemuAnswers(3)));
  const { files } = fakeFiles(machine(CPUINFO_PVM, {
    text: {
      "/work/repo/setup/kernel-sources.txt": "# series suite\n7.2 sid\n7.3 experimental\n",
      [`${fetched}/linux-source-7.2.fetched`]: "package=linux-source-7.2\nversion=7.2.13-1\n" +
        "suite=sid\ndeb_sha256=" + "ab".repeat(32) + "\nfetched=2026-12-03T10:46:56Z\n",
      // Installed in /usr/src as well: the package wins.
      [`${fetched}/linux-source-6.1.fetched`]: "package=linux-source-6.1\nversion=6.1.1-1\n" +
        "suite=sid\n",
    },
    dirs: {
      "/usr/src": ["linux-source-6.1.tar.xz"],
      // 7.3's record is missing: an interrupted fetch, so not a source.
      [fetched]: [
        "linux-source-6.1.fetched",
        "linux-source-6.1.tar.xz",
        "linux-source-7.2.fetched",
        "linux-source-7.2.tar.xz",
        "linux-source-7.3.tar.xz",
      ],
    },
  }));
  const f = await hostFacts(runner, files, {
    ...OPTIONS,
    repo: "/work/repo",
    fetchedSrcDir: fetched,
  });
  assert.deepEqual(f.kernelSources, {
    "6.1": "/usr/src/linux-source-6.1.tar.xz",
    "7.2": `${fetched}/linux-source-7.2.tar.xz`,
  });
  assert.deepEqual(f.kernelVersions, { "6.1": "6.1.192", "7.2": "7.2.13" });
  assert.deepEqual(f.kernelPackages, {
    "6.1": "linux-source-6.1 6.1.192-2 (installed)",
    "7.2": "linux-source-7.2 7.2.13-1 (fetched from sid on 2026-12-03T10:46:56Z)",
  });
  assert.deepEqual(f.fetchableKernels, { "7.2": "sid", "7.3": "experimental" });
  assert.equal(
    calls.some((c) => c.cmd === "tar" && c.args.some((a) => a.includes("7.2"))),
    false,
    "a fetched source's version comes from its record, not from the tarball",
  );
});

Deno.test("hostFacts() reads the version of an unpackaged tarball from its Makefile", async () => {
  const { runner } = fakeRunner(handlers(qemuAnswers(3)));
  const { files } = fakeFiles(machine(CPUINFO_PVM));
  const f = await hostFacts(runner, files, OPTIONS);
  assert.equal(f.kernelVersions["7.2"], "7.2.13");
  assert.equal(f.kernelPackages["7.2"], "no package: the version is read from the tarball");
  assert.deepEqual(f.fetchableKernels, {}, "no table in this checkout");
});

// ---- The real machine ---------------------------------------------------------------------------

Deno.test("hostFacts() on this machine returns well-formed facts", async () => {
  const f = await hostFacts();
  assert.equal(typeof f.qemu.path, "string");
  assert.equal(f.qemu.found, f.qemu.path.startsWith("/"));
  assert.ok(f.accel === "kvm" || f.accel === "tcg");
  assert.equal(f.accelCpu, f.accel === "kvm" ? "host" : "max");
  if (f.accel === "kvm") assert.ok(f.kvm.usable && f.kvm.nested);
  assert.ok(Number.isInteger(f.cores) && f.cores >= 1);
  assert.equal(f.disks.length, 2);
  for (const d of f.disks) assert.ok(d.freeBytes === null || d.freeBytes >= 0);
  for (const [series, tarball] of Object.entries(f.kernelSources)) {
    assert.match(series, /^\d+\.\d+$/);
    assert.ok(tarball.startsWith("/"));
    const v = f.kernelVersions[series];
    if (v !== null) assert.ok(v.startsWith(`${series}.`), `${v} belongs to ${series}`);
  }
  assert.ok(f.tscKhz === null || (Number.isInteger(f.tscKhz) && f.tscKhz > 0));
  assert.deepEqual(JSON.parse(JSON.stringify(f)), f, "facts are plain data");
});
