import assert from "node:assert/strict";
import {
  DISK_MISSING_BYTES,
  DISK_WARN_BYTES,
  doctorOk,
  type DoctorRow,
  doctorRows,
  formatBytes,
  renderDoctor,
} from "./doctor.ts";
import type { HostFacts } from "./host_facts.ts";

const GIB = 1024 ** 3;

/** A host with nested KVM and everything installed. */
function facts(over: Partial<HostFacts> = {}): HostFacts {
  return {
    qemu: { path: "/usr/bin/qemu-system-x86_64", found: true, version: "7.2.22" },
    cpu: { vendor: "GenuineIntel", model: "Xeon", vmx: true, svm: false },
    kvm: {
      device: true,
      modules: ["kvm_intel"],
      usable: true,
      nested: true,
      detail: "A guest ran with -accel kvm -cpu host",
    },
    tcg: { svm: true, npt: true, detail: "-cpu max offers SVM with NPT" },
    accel: "kvm",
    accelCpu: "host",
    accelReason: "KVM runs ordinary guests and nested virtualization is on",
    disks: [
      { dir: "/repo/results", measured: "/repo", freeBytes: 80 * GIB },
      { dir: "/repo/.cache", measured: "/repo", freeBytes: 80 * GIB },
    ],
    memory: { totalBytes: 24 * GIB, availableBytes: 22 * GIB },
    cores: 2,
    kernelSources: {
      "6.1": "/usr/src/linux-source-6.1.tar.xz",
      "6.12": "/usr/src/linux-source-6.12.tar.xz",
      "7.2": "/repo/.cache/linux-source/linux-source-7.2.tar.xz",
    },
    kernelVersions: { "6.1": "6.1.192", "6.12": "6.12.117", "7.2": "7.2.13" },
    kernelPackages: {
      "6.1": "linux-source-6.1 6.1.192-1 (installed)",
      "6.12": "linux-source-6.12 6.12.117-1~deb12u1 (installed)",
      "7.2": "linux-source-7.2 7.2.13-1 (fetched from sid on 2026-12-03T10:46:56Z)",
    },
    fetchableKernels: { "7.2": "sid" },
    busybox: "/usr/bin/busybox",
    busyboxStatic: true,
    debootstrap: "/usr/sbin/debootstrap",
    ccache: { path: "/usr/bin/ccache", version: "4.7.5" },
    gcc: { path: "/usr/bin/gcc", version: "12.2.0" },
    tscKhz: 2596140,
    ...over,
  };
}

/** The kvm_pvm machines: no usable KVM, TCG with SVM. */
function pvmFacts(over: Partial<HostFacts> = {}): HostFacts {
  return facts({
    cpu: { vendor: "AuthenticAMD", model: "AMD EPYC", vmx: false, svm: false },
    kvm: {
      device: true,
      modules: ["kvm_pvm"],
      usable: false,
      nested: false,
      detail: "/dev/kvm exists but the CPU shows no vmx or svm flag (kvm_pvm is loaded)",
    },
    accel: "tcg",
    accelCpu: "max",
    accelReason: "KVM is not usable for ordinary guests; TCG emulates SVM with NPT for L1",
    ...over,
  });
}

function find(rows: DoctorRow[], check: string): DoctorRow {
  const r = rows.find((x) => x.check === check);
  assert.ok(r, `a row "${check}" among ${rows.map((x) => x.check).join(", ")}`);
  return r;
}

Deno.test("doctorRows() on a fully equipped nested-KVM host is all ok", () => {
  const rows = doctorRows(facts());
  assert.deepEqual(rows.map((r) => r.check), [
    "QEMU",
    "KVM for ordinary guests",
    "TCG with SVM",
    "Accel mode",
    "L1 TSC frequency",
    "Free disk (results)",
    "Free disk (.cache)",
    "Memory",
    "Kernel source 6.1",
    "Kernel source 6.12",
    "Kernel source 7.2 (optional)",
    "busybox-static",
    "debootstrap",
    "ccache",
    "Compiler",
  ]);
  for (const r of rows) {
    assert.equal(r.status, "ok", `${r.check}: ${r.detail}`);
    assert.equal(r.fix, "");
  }
  assert.equal(doctorOk(rows), true);
  assert.equal(
    find(rows, "Kernel source 6.1").detail,
    "6.1.192 at /usr/src/linux-source-6.1.tar.xz",
  );
  assert.equal(find(rows, "Accel mode").detail, "kvm with -cpu host: " + facts().accelReason);
});

Deno.test("doctorRows() on a kvm_pvm host warns about KVM but can run with TCG", () => {
  const rows = doctorRows(pvmFacts());
  const kvm = find(rows, "KVM for ordinary guests");
  assert.equal(kvm.status, "warn");
  assert.match(kvm.detail, /kvm_pvm.*nested runs use TCG.*slower/);
  assert.match(kvm.fix, /Nothing needed/);
  assert.equal(find(rows, "TCG with SVM").status, "ok");
  assert.equal(find(rows, "Accel mode").status, "ok");
  assert.match(find(rows, "Accel mode").detail, /^tcg with -cpu max: /);
  assert.equal(doctorOk(rows), true);
});

Deno.test("doctorRows() under TCG tells L1's TSC rate, and warns when L0's log lacks it", () => {
  assert.deepEqual(find(doctorRows(facts({ tscKhz: null })), "L1 TSC frequency"), {
    check: "L1 TSC frequency",
    status: "ok",
    detail: "not needed: L1 runs under KVM (kvmclock)",
    fix: "",
  });
  const known = find(doctorRows(pvmFacts()), "L1 TSC frequency");
  assert.equal(known.status, "ok");
  assert.match(known.detail, /tsc_early_khz=2596140/);
  const rows = doctorRows(pvmFacts({ tscKhz: null }));
  const unknown = find(rows, "L1 TSC frequency");
  assert.equal(unknown.status, "warn");
  assert.match(unknown.detail, /calibrates against the emulated PIT/);
  assert.match(unknown.fix, /dmesg.*#l1-tsc-frequency/);
  assert.equal(doctorOk(rows), true, "a warning, not a blocker");
});

Deno.test("doctorRows() without KVM and without TCG SVM is missing", () => {
  const rows = doctorRows(
    pvmFacts({ tcg: { svm: false, npt: false, detail: "-cpu max offers no SVM" } }),
  );
  assert.equal(find(rows, "KVM for ordinary guests").status, "missing");
  assert.equal(find(rows, "TCG with SVM").status, "missing");
  assert.equal(find(rows, "Accel mode").status, "missing");
  assert.equal(doctorOk(rows), false);
});

Deno.test("doctorRows() warns when KVM works but nesting is off, with the modprobe fix", () => {
  const f = facts({
    kvm: { ...facts().kvm, nested: false },
    accel: "tcg",
    accelCpu: "max",
    accelReason: "KVM works but nested virtualization is off; TCG emulates SVM with NPT for L1",
  });
  const kvm = find(doctorRows(f), "KVM for ordinary guests");
  assert.equal(kvm.status, "warn");
  assert.match(kvm.fix, /modprobe kvm_intel nested=1/);
});

Deno.test("doctorRows() only warns about TCG without SVM while KVM carries the nesting", () => {
  const rows = doctorRows(
    facts({ tcg: { svm: false, npt: false, detail: "-cpu max offers no SVM" } }),
  );
  assert.equal(find(rows, "TCG with SVM").status, "warn");
  assert.equal(doctorOk(rows), true);
});

Deno.test("doctorRows() grades free disk: ok, warn below 20 GiB, missing below 8 GiB", () => {
  const disk = (freeBytes: number | null) =>
    find(
      doctorRows(facts({ disks: [{ dir: "/repo/results", measured: "/repo", freeBytes }] })),
      "Free disk (results)",
    );
  assert.equal(disk(DISK_WARN_BYTES).status, "ok");
  assert.equal(disk(DISK_WARN_BYTES - 1).status, "warn");
  assert.equal(disk(DISK_MISSING_BYTES).status, "warn");
  const low = disk(DISK_MISSING_BYTES - 1);
  assert.equal(low.status, "missing");
  assert.match(low.detail, /^8\.0 GiB free in \/repo \(below 8\.0 GiB\)$/);
  assert.match(low.fix, /VTCIO_CACHE/);
  assert.equal(disk(null).status, "warn");
});

Deno.test("doctorRows() warns below 4 GiB of available memory", () => {
  const mem = (availableBytes: number | null) =>
    find(doctorRows(facts({ memory: { totalBytes: 8 * GIB, availableBytes } })), "Memory");
  assert.equal(mem(4 * GIB).status, "ok");
  assert.equal(mem(4 * GIB).detail, "4.0 GiB available of 8.0 GiB");
  assert.equal(mem(3 * GIB).status, "warn");
  assert.match(mem(3 * GIB).fix, /--jobs 1/);
  assert.equal(mem(null).status, "warn");
});

Deno.test("doctorRows() needs 6.1 and 6.12 sources; 7.2 is optional", () => {
  const rows = doctorRows(facts({
    kernelSources: { "6.1": "/usr/src/linux-source-6.1.tar.xz" },
    kernelVersions: { "6.1": null },
  }));
  assert.equal(find(rows, "Kernel source 6.1").status, "ok");
  assert.match(find(rows, "Kernel source 6.1").detail, /version unknown/);
  const k612 = find(rows, "Kernel source 6.12");
  assert.equal(k612.status, "missing");
  assert.equal(k612.fix, "Run ./vtcio setup");
  const k72 = find(rows, "Kernel source 7.2 (optional)");
  assert.equal(k72.status, "warn");
  assert.match(k72.detail, /^Not fetched yet: .* fetches it from sid first/);
  assert.match(k72.fix, /^\.\/vtcio setup --kernel 7\.2 fetches it now/);
  assert.equal(doctorOk(rows), false);
});

Deno.test("doctorRows() shows the fetched 7.2 with its Debian version", () => {
  const k72 = find(doctorRows(facts()), "Kernel source 7.2 (optional)");
  assert.equal(k72.status, "ok");
  assert.equal(
    k72.detail,
    "7.2.13 at /repo/.cache/linux-source/linux-source-7.2.tar.xz, " +
      "linux-source-7.2 7.2.13-1 (fetched from sid on 2026-12-03T10:46:56Z)",
  );
  assert.equal(k72.fix, "");
});

Deno.test("doctorRows() has a row per series setup/kernel-sources.txt lists", () => {
  const rows = doctorRows(facts({ fetchableKernels: { "7.2": "sid", "7.3": "experimental" } }));
  const k73 = find(rows, "Kernel source 7.3 (optional)");
  assert.equal(k73.status, "warn");
  assert.match(k73.detail, /from experimental/);
  const none = doctorRows(facts({ fetchableKernels: {} }));
  assert.equal(none.some((r) => r.check.startsWith("Kernel source 7.2")), false);
});

Deno.test("doctorRows() judges busybox, debootstrap, ccache and the compiler", () => {
  const rows = doctorRows(facts({
    busybox: "/usr/bin/busybox",
    busyboxStatic: false,
    debootstrap: null,
    ccache: { path: null, version: null },
    gcc: { path: null, version: null },
  }));
  assert.equal(find(rows, "busybox-static").status, "missing");
  assert.match(find(rows, "busybox-static").detail, /dynamically linked/);
  assert.equal(find(rows, "debootstrap").status, "missing");
  assert.equal(find(rows, "ccache").status, "warn");
  assert.equal(find(rows, "Compiler").status, "missing");
  assert.equal(find(doctorRows(facts({ busybox: null })), "busybox-static").status, "missing");
  assert.equal(
    find(doctorRows(facts({ busyboxStatic: null })), "busybox-static").status,
    "warn",
  );
  assert.equal(
    find(
      doctorRows(facts({ qemu: { path: "qemu-system-x86_64", found: false, version: null } })),
      "QEMU",
    ).status,
    "missing",
  );
});

Deno.test("renderDoctor() aligns the table and lists what to do for each non-ok row", () => {
  const rows: DoctorRow[] = [
    { check: "QEMU", status: "ok", detail: "7.2.22 at /usr/bin/qemu-system-x86_64", fix: "" },
    {
      check: "Kernel source 6.12",
      status: "missing",
      detail: "No tarball",
      fix: "Run ./vtcio setup",
    },
    { check: "ccache", status: "warn", detail: "No ccache", fix: "Run ./vtcio setup" },
  ];
  assert.equal(
    renderDoctor(rows),
    [
      "CHECK               STATUS   DETAIL",
      "QEMU                ok       7.2.22 at /usr/bin/qemu-system-x86_64",
      "Kernel source 6.12  missing  No tarball",
      "ccache              warn     No ccache",
      "",
      "What to do:",
      "  Kernel source 6.12: Run ./vtcio setup",
      "  ccache: Run ./vtcio setup",
    ].join("\n"),
  );
});

Deno.test("renderDoctor() says when all passed and when only warnings remain", () => {
  assert.match(renderDoctor(doctorRows(facts())), /\nAll checks passed$/);
  const text = renderDoctor(doctorRows(pvmFacts()));
  assert.match(text, /What to do:\n {2}KVM for ordinary guests: Nothing needed/);
  assert.match(text, /Nothing is missing: the matrix can run$/);
});

Deno.test("formatBytes() prints GiB with one decimal", () => {
  assert.equal(formatBytes(20 * GIB), "20.0 GiB");
  assert.equal(formatBytes(1.25 * GIB), "1.3 GiB");
});
