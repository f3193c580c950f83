import { assertEquals, assertMatch } from "./test_assert.ts";
import { boot, type BootSpec, l1Args } from "./boot.ts";
import { liveGroups } from "./proc.ts";
import { evidenceFromBoot } from "./cell_run.ts";

/** A stand-in for qemu-system-x86_64: a shell script that plays a scripted console. */
async function fakeQemu(dir: string, body: string): Promise<string> {
  const path = `${dir}/fake-qemu`;
  await Deno.writeTextFile(path, `#!/bin/sh\n${body}\n`);
  await Deno.chmod(path, 0o755);
  return path;
}

function spec(dir: string, qemu: string, timeouts = { l1: 5, l2: 5, clients: 5 }): BootSpec {
  return {
    qemu,
    accel: "tcg",
    cellDir: dir,
    l1Kernel: "/nonexistent/bzImage",
    l1Initrd: "/nonexistent/initrd",
    l1Smp: 1,
    l1MemMb: 512,
    l2Smp: 1,
    l2Cpu: "host",
    l2MemMb: 256,
    l2Append: "",
    l1Qemu: [],
    l2Qemu: [],
    timeouts: { build: 1, l1_boot: timeouts.l1, l2_boot: timeouts.l2, clients: timeouts.clients },
  };
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "vtcio-boot-test-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("boot: a guest that hangs after L1's init times out in the next phase, group killed", () =>
  withDir(async (dir) => {
    // The child of the fake QEMU also sleeps: the whole group must go.
    const qemu = await fakeQemu(dir, `echo "vtcio-l1: init kernel=x"\nsleep 300 &\nsleep 300`);
    const rec = await boot(spec(dir, qemu, { l1: 5, l2: 5, clients: 1 }));
    assertEquals(rec.timeout, { phase: "clients", seconds: 1 });
    assertEquals(rec.completed, false);
    assertEquals(liveGroups(), 0);
    const log = await Deno.readTextFile(`${dir}/l1-console.log`);
    assertMatch(log, /^\[\s+\d+\.\d{3}\] vtcio-l1: init kernel=x$/m);
  }));

Deno.test("boot: a guest that prints nothing times out in l1_boot", () =>
  withDir(async (dir) => {
    const qemu = await fakeQemu(dir, "sleep 300");
    const rec = await boot(spec(dir, qemu, { l1: 1, l2: 5, clients: 5 }));
    assertEquals(rec.timeout?.phase, "l1_boot");
    assertEquals(liveGroups(), 0);
  }));

Deno.test("boot: QEMU that exits at start is an infrastructure error with its message", () =>
  withDir(async (dir) => {
    const qemu = await fakeQemu(dir, `echo "qemu: could not load kernel" >&2\nexit 1`);
    const rec = await boot(spec(dir, qemu));
    assertEquals(rec.qemuExit, 1);
    assertEquals(rec.timeout, undefined);
    assertMatch(rec.infraError ?? "", /could not load kernel|status 1/);
  }));

Deno.test("boot: a panic in L1 is kept and becomes crash evidence", () =>
  withDir(async (dir) => {
    const qemu = await fakeQemu(
      dir,
      `echo "[    1.0] Kernel panic - not syncing: No working init found."\n` +
        `echo "[    1.0] CPU: 0 PID: 1 Comm: swapper/0 Not tainted 6.1.192 #1"\nexit 0`,
    );
    const rec = await boot(spec(dir, qemu));
    const ev = evidenceFromBoot(rec);
    assertEquals(ev.crashes.length, 1);
    assertEquals(ev.crashes[0].console, "l1");
    assertEquals(ev.crashes[0].kind, "panic");
  }));

Deno.test("boot: markers move through every phase to a completed cycle", () =>
  withDir(async (dir) => {
    const qemu = await fakeQemu(
      dir,
      [
        `echo "vtcio-l1: init kernel=x"`,
        `echo "vtcio-l1: l2 start smp=1 cpu=host"`,
        `echo "vtcio-l1: done status=0"`,
      ].join("\n"),
    );
    const phases: string[] = [];
    const rec = await boot(spec(dir, qemu), { onPhase: (p) => phases.push(p) });
    assertEquals(rec.completed, true);
    assertEquals(phases, ["l1_boot", "clients", "l2_boot"]);
    assertEquals(rec.timeout, undefined);
  }));

Deno.test("boot: a scenario's later L2 guests and final checks get phases of their own", () =>
  withDir(async (dir) => {
    // Two guests one after the other (the second dies without its end marker), then checks.
    const qemu = await fakeQemu(
      dir,
      [
        `echo "vtcio-l1: init kernel=x"`,
        `echo "vtcio-l1: l2 start smp=1 cpu=host way=close"`,
        `echo "vtcio-l1: l2 start smp=1 cpu=host way=kill"`,
        `echo "vtcio-l1: checks begin"`,
        `echo "vtcio-l1: checks end"`,
        `echo "vtcio-l1: done status=0"`,
      ].join("\n"),
    );
    const phases: string[] = [];
    const rec = await boot(spec(dir, qemu), { onPhase: (p) => phases.push(p) });
    assertEquals(rec.completed, true);
    assertEquals(phases, ["l1_boot", "clients", "l2_boot", "l2_boot", "clients"]);
  }));

Deno.test("boot: an abort stops QEMU and says so", () =>
  withDir(async (dir) => {
    const qemu = await fakeQemu(dir, `echo "vtcio-l1: init"\nsleep 300`);
    const ctl = new AbortController();
    setTimeout(() => ctl.abort(), 500);
    const rec = await boot(spec(dir, qemu, { l1: 60, l2: 60, clients: 60 }), {
      signal: ctl.signal,
    });
    assertEquals(rec.infraError, "Interrupted");
    assertEquals(liveGroups(), 0);
  }));

Deno.test("boot: L1 arguments pick the accelerator and pass L2 settings on the command line", () => {
  const s = spec("/tmp/x", "qemu");
  const tcg = l1Args(s, "/tmp/s.sock");
  assertEquals(tcg.slice(0, 4), ["-accel", "tcg,thread=multi", "-cpu", "max"]);
  const kvm = l1Args({ ...s, accel: "kvm", l2Cpu: "qemu64" }, "/tmp/s.sock");
  assertEquals(kvm.slice(0, 4), ["-accel", "kvm", "-cpu", "host"]);
  assertMatch(kvm[kvm.indexOf("-append") + 1], /vtcio\.l2_cpu=qemu64/);
  const extra = l1Args({ ...s, l1Append: ["vtcio.scenario=fuzz", "kmemleak=on"] }, "/tmp/s.sock");
  assertMatch(extra[extra.indexOf("-append") + 1], / vtcio\.scenario=fuzz kmemleak=on$/);
});

Deno.test("boot: a console flood stops the guest and keeps memory and the log bounded", () =>
  withDir(async (dir) => {
    // A guest that prints forever, in lines and then without any line end.
    const qemu = await fakeQemu(
      dir,
      `echo "vtcio-l1: init kernel=x"\nyes "spam spam spam" | head -c 200000\nexec cat /dev/zero`,
    );
    const rec = await boot({
      ...spec(dir, qemu, { l1: 30, l2: 30, clients: 30 }),
      consoleCapBytes: 100_000,
    });
    assertEquals(rec.flood, { console: "l1", bytes: 100_000, phase: "clients" });
    assertEquals(rec.timeout, undefined);
    assertEquals(rec.infraError, undefined);
    assertEquals(liveGroups(), 0);
    const kept = rec.l1.reduce((n, l) => n + l.length + 1, 0);
    assertEquals(kept < 100_000 + 200, true, `kept ${kept} characters`);
    assertMatch(rec.l1.at(-1) ?? "", /L1 console flood: more than 100000 bytes/);
    const log = await Deno.stat(`${dir}/l1-console.log`);
    assertEquals(log.size < 200_000, true, `log of ${log.size} bytes`);
    assertEquals(evidenceFromBoot(rec).flood?.console, "l1");
  }));

Deno.test("boot: a console without line ends is cut into bounded lines, not held whole", () =>
  withDir(async (dir) => {
    const qemu = await fakeQemu(
      dir,
      `head -c 300000 /dev/zero | tr '\\0' x\necho\necho "vtcio-l1: init kernel=x"\nsleep 300`,
    );
    const rec = await boot(spec(dir, qemu, { l1: 30, l2: 30, clients: 1 }));
    assertEquals(rec.timeout?.phase, "clients");
    assertEquals(Math.max(...rec.l1.map((l) => l.length)) <= 64 * 1024, true);
    assertEquals(rec.l1.filter((l) => /^x+$/.test(l)).reduce((n, l) => n + l.length, 0), 300_000);
  }));

Deno.test("boot: under TCG L1 is told L0's TSC rate, before the cell's own words", () => {
  const s = { ...spec("/tmp/x", "qemu"), l1TscKhz: 2596140, l1Append: ["tsc_early_khz=1000000"] };
  const append = (a: string[]) => a[a.indexOf("-append") + 1];
  // The kernel keeps the last tsc_early_khz=, so a cell's l1_append can still override it.
  assertMatch(
    append(l1Args(s, "/tmp/s.sock")),
    / tsc_early_khz=2596140 tsc=reliable tsc_early_khz=1000000$/,
  );
  // Under KVM L1 has kvmclock; without a known rate L1 calibrates as before.
  assertEquals(/tsc_early_khz=2596140/.test(append(l1Args({ ...s, accel: "kvm" }, "/s"))), false);
  assertEquals(/tsc_early_khz/.test(append(l1Args(spec("/tmp/x", "qemu"), "/s"))), false);
  assertEquals(/tsc=reliable/.test(append(l1Args(spec("/tmp/x", "qemu"), "/s"))), false);
});
