import assert from "node:assert/strict";
import { detectCrashes } from "./crash_detect.ts";

/** Splits a fixture written as a template literal into console lines. */
function consoleOf(text: string): string[] {
  return text.replace(/^\n/, "").replace(/\n$/, "").split("\n");
}

const NULL_DEREF_THEN_PANIC = consoleOf(`
[    3.200017] tciodd: registered /dev/tcioDD0
[    3.401300] BUG: kernel NULL pointer dereference, address: 0000000000000018
[    3.401844] #PF: supervisor read access in kernel mode
[    3.402212] #PF: error_code(0x0000) - not-present page
[    3.402560] PGD 0 P4D 0
[    3.402771] Oops: 0000 [#1] PREEMPT SMP NOPTI
[    3.403105] CPU: 0 PID: 97 Comm: tcio-client Not tainted 6.1.0-vtcio #1
[    3.403580] Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.2-debian-1.16.2-1 04/01/2014
[    3.404269] RIP: 0010:ktciodd_read+0x3c/0x1b0 [ktciodd]
[    3.404650] Code: 41 56 41 55 41 54 55 53 48 83 ec 10 48 8b 87 c8 00 00 00 <48> 8b 58 18
[    3.405540] RSP: 0018:ffffc900001e7e08 EFLAGS: 00010246
[    3.405933] RAX: 0000000000000000 RBX: ffff888003b2c000 RCX: 0000000000000000
[    3.406460] Call Trace:
[    3.406644]  <TASK>
[    3.406803]  vfs_read+0xa8/0x2b0
[    3.407044]  ksys_read+0x67/0xe0
[    3.407275]  do_syscall_64+0x3b/0x90
[    3.407531]  entry_SYSCALL_64_after_hwframe+0x63/0xcd
[    3.407902]  </TASK>
[    3.408066] Modules linked in: ktciodd
[    3.408329] CR2: 0000000000000018
[    3.408563] ---[ end trace 0000000000000000 ]---
[    3.408871] RIP: 0010:ktciodd_read+0x3c/0x1b0 [ktciodd]
[    3.409720] Kernel panic - not syncing: Fatal exception
[    3.410311] Kernel Offset: disabled
[    3.410552] ---[ end Kernel panic - not syncing: Fatal exception ]---
`);

Deno.test("detectCrashes() cuts an Oops up to its end trace, then the panic", () => {
  const crashes = detectCrashes(NULL_DEREF_THEN_PANIC);
  assert.deepEqual(crashes.map((c) => [c.kind, c.line]), [["oops", 1], ["panic", 23]]);
  const oops = crashes[0];
  assert.equal(oops.summary, "BUG: kernel NULL pointer dereference, address: 0000000000000018");
  assert.equal(oops.trace.length, 21);
  assert.equal(oops.trace[0], NULL_DEREF_THEN_PANIC[1]);
  assert.match(oops.trace[20], /---\[ end trace 0000000000000000 \]---$/);
  assert.ok(oops.trace.some((l) => l.includes("Oops: 0000 [#1]")), "Oops line is absorbed");
  const panic = crashes[1];
  assert.equal(panic.summary, "Kernel panic - not syncing: Fatal exception");
  assert.equal(panic.trace.length, 3);
});

const WARN = consoleOf(`
[   41.118002] ------------[ cut here ]------------
[   41.118010] WARNING: CPU: 1 PID: 345 at arch/x86/kvm/tciodd.c:212 tciodd_hc_write+0x1a4/0x1f0 [kvm]
[   41.118600] Modules linked in: kvm_intel kvm irqbypass
[   41.118900] CPU: 1 PID: 345 Comm: qemu-system-x86 Not tainted 6.1.0-vtcio #1
[   41.119300] RIP: 0010:tciodd_hc_write+0x1a4/0x1f0 [kvm]
[   41.119700] Call Trace:
[   41.119800]  <TASK>
[   41.119900]  kvm_emulate_hypercall+0x2c1/0x4a0 [kvm]
[   41.120000]  vmx_handle_exit+0x5e/0x2a0 [kvm_intel]
[   41.120100]  </TASK>
[   41.120200] ---[ end trace 5f1e2a7b9c3d4e01 ]---
[   41.300000] kvm: vcpu0, guest rIP: 0xffffffff8106d0e4 Unhandled WRMSR(0xc0010007) = 0x0
`);

Deno.test("detectCrashes() keeps the cut-here line of a WARNING", () => {
  const crashes = detectCrashes(WARN);
  assert.equal(crashes.length, 1);
  assert.equal(crashes[0].kind, "warning");
  assert.equal(crashes[0].line, 1);
  assert.equal(crashes[0].trace.length, 11);
  assert.match(crashes[0].trace[0], /cut here/);
  assert.match(crashes[0].summary, /^WARNING: CPU: 1 PID: 345 at arch\/x86\/kvm\/tciodd.c:212/);
});

Deno.test("detectCrashes() ignores harmless KVM MSR messages and userspace faults", () => {
  const crashes = detectCrashes(consoleOf(`
[    1.000000] kvm: vcpu0, guest rIP: 0xffffffff8106d0e4 Unhandled WRMSR(0xc0010007) = 0x0
[    1.000100] kvm [812]: vcpu1, guest rIP: 0xffffffff81071234 Unhandled RDMSR(0x1a0)
[    1.000200] kvm: vcpu0 ignored rdmsr: 0x4e data 0x0
[    2.000000] traps: tcio-client[97] general protection fault ip:7f3a2b1c sp:7ffd9a8 error:0 in libc.so.6
[    2.100000] tcio-client[98]: segfault at 0 ip 000055d1 sp 00007ffd error 4 in tcio-client
[    2.200000] systemd[1]: Started Getty on tty1.
# test message mentions Kernel panic - not syncing but is a KTAP diagnostic
ok 1 warns_on_bad_header
`));
  assert.deepEqual(crashes, []);
});

Deno.test("detectCrashes() lets extra ignore patterns drop lines", () => {
  const lines = ["[    5.0] BUG: spinlock bad magic on CPU#0, swapper/0/1"];
  assert.equal(detectCrashes(lines).length, 1);
  assert.equal(detectCrashes(lines, { ignore: [/spinlock bad magic/] }).length, 0);
});

const KASAN = consoleOf(`
[   12.000000] ==================================================================
[   12.000100] BUG: KASAN: slab-use-after-free in tciodd_queue_pop+0x5c/0x120 [kvm]
[   12.000200] Read of size 8 at addr ffff88800a3c4e08 by task qemu-system-x86/412
[   12.000300]
[   12.000400] CPU: 0 PID: 412 Comm: qemu-system-x86 Not tainted 6.6.0-vtcio #1
[   12.000500] Call Trace:
[   12.000600]  <TASK>
[   12.000700]  dump_stack_lvl+0x48/0x70
[   12.000800]  kasan_report+0xbe/0xf0
[   12.000900]  tciodd_queue_pop+0x5c/0x120 [kvm]
[   12.001000]  </TASK>
[   12.001100]
[   12.001200] Allocated by task 412:
[   12.001300]  kasan_save_stack+0x20/0x40
[   12.001400]  __kmalloc+0x5a/0x180
[   12.001500]
[   12.001600] Freed by task 413:
[   12.001700]  kasan_save_stack+0x20/0x40
[   12.001800]  kfree+0x7a/0x120
[   12.001900]
[   12.002000] The buggy address belongs to the object at ffff88800a3c4e00
[   12.002100] Memory state around the buggy address:
[   12.002200]  ffff88800a3c4d00: fa fb fb fb fb fb fb fb fb fb fb fb fb fb fb fb
[   12.002300] >ffff88800a3c4e00: fa fb fb fb fb fb fb fb fb fb fb fb fb fb fb fb
[   12.002400]                       ^
[   12.002500] ==================================================================
[   12.002600] Disabling lock debugging due to kernel taint
`);

Deno.test("detectCrashes() reads a framed KASAN report to its closing line", () => {
  const crashes = detectCrashes(KASAN);
  assert.equal(crashes.length, 1);
  const [kasan] = crashes;
  assert.equal(kasan.kind, "kasan");
  assert.equal(kasan.line, 1);
  assert.equal(
    kasan.summary,
    "BUG: KASAN: slab-use-after-free in tciodd_queue_pop+0x5c/0x120 [kvm]",
  );
  assert.equal(kasan.trace.length, 26, "from the opening to the closing separator");
  assert.match(kasan.trace[0], /={60}/);
  assert.match(kasan.trace[25], /={60}/);
});

Deno.test("detectCrashes() does not give a closing separator to the next report", () => {
  const crashes = detectCrashes([
    ...KASAN.slice(0, 26),
    "[   12.002600] Kernel panic - not syncing: KASAN: panic_on_warn set ...",
  ]);
  assert.deepEqual(crashes.map((c) => c.kind), ["kasan", "panic"]);
  assert.equal(crashes[1].trace.length, 1);
});

const LOCKDEP = consoleOf(`
[   20.000000] ======================================================
[   20.000010] WARNING: possible circular locking dependency detected
[   20.000020] 6.1.0-vtcio #1 Not tainted
[   20.000030] ------------------------------------------------------
[   20.000040] qemu-system-x86/412 is trying to acquire lock:
[   20.000050] ffff888004a1c0b8 (&kvm->lock){+.+.}-{3:3}, at: tciodd_connect+0x40/0x160 [kvm]
[   20.000060]
[   20.000070] but task is already holding lock:
[   20.000080] ffff888004a1d0a0 (&vcpu->mutex){+.+.}-{3:3}, at: kvm_vcpu_ioctl+0x8c/0x6c0 [kvm]
[   20.000090]
[   20.000100] stack backtrace:
[   20.000110] CPU: 1 PID: 412 Comm: qemu-system-x86 Not tainted 6.1.0-vtcio #1
[   20.000120] Call Trace:
[   20.000130]  <TASK>
[   20.000140]  dump_stack_lvl+0x48/0x70
[   20.000150]  __lock_acquire+0x1b3d/0x2010
[   20.000160]  </TASK>
[   20.100000] tciodd: channel 3 closed
[   20.200000] random: crng init done
[   20.300000] EXT4-fs (vda): mounted filesystem
[   20.400000] tciodd: channel 4 opened
[   20.500000] tciodd: channel 4 closed
[   20.600000] tciodd: channel 5 opened
[   20.700000] tciodd: channel 5 closed
[   20.800000] tciodd: channel 6 opened
`);

Deno.test("detectCrashes() ends a lockdep report at its last stack without an end marker", () => {
  const crashes = detectCrashes(LOCKDEP);
  assert.equal(crashes.length, 1);
  assert.equal(crashes[0].kind, "lockdep");
  assert.equal(crashes[0].trace.length, 17);
  assert.match(crashes[0].trace[16], /<\/TASK>$/);
});

Deno.test("detectCrashes() recognises lockdep variants", () => {
  const kinds = detectCrashes([
    "[    1.0] WARNING: possible recursive locking detected",
    "[    2.0] WARNING: inconsistent lock state",
    "[    3.0] WARNING: suspicious RCU usage",
    "[    4.0] WARNING: HARDIRQ-safe -> HARDIRQ-unsafe lock order detected",
  ]).map((c) => c.kind);
  assert.deepEqual(kinds, ["lockdep", "lockdep", "lockdep", "lockdep"]);
});

Deno.test("detectCrashes() reads kmemleak objects by their indentation", () => {
  const crashes = detectCrashes(consoleOf(`
unreferenced object 0xffff888003d3c000 (size 64):
  comm "tcio-client", pid 97, jiffies 4294892296
  hex dump (first 32 bytes):
    00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00  ................
  backtrace (crc 0):
    [<ffffffff8125a6c1>] __kmalloc+0x5a/0x180
    [<ffffffffa0012345>] ktciodd_open+0x31/0x90 [ktciodd]
ok 3 open_close_loop
[   90.000000] kmemleak: 2 new suspected memory leaks (see /sys/kernel/debug/kmemleak)
`));
  assert.deepEqual(crashes.map((c) => [c.kind, c.line, c.trace.length]), [
    ["kmemleak", 0, 7],
    ["kmemleak", 8, 1],
  ]);
});

Deno.test("detectCrashes() finds lockups, hung tasks and RCU stalls", () => {
  const crashes = detectCrashes(consoleOf(`
[   48.112233] watchdog: BUG: soft lockup - CPU#1 stuck for 22s! [qemu-system-x86:412]
[   48.112300] Modules linked in: kvm_intel kvm
[   48.112400] CPU: 1 PID: 412 Comm: qemu-system-x86 Tainted: G             L     6.1.0 #1
[   48.112500] RIP: 0010:tciodd_wait+0x20/0x60 [kvm]
[   48.112600] Call Trace:
[   48.112700]  <IRQ>
[   48.112800]  </IRQ>
[   48.112900]  <TASK>
[   48.113000]  kvm_arch_vcpu_ioctl_run+0x2f0/0x700 [kvm]
[   48.113100]  </TASK>
[   60.000000] NMI watchdog: Watchdog detected hard LOCKUP on cpu 0
[  246.000000] INFO: task kworker/0:1:23 blocked for more than 122 seconds.
[  246.000100]       Not tainted 6.1.0-vtcio #1
[  246.000200] "echo 0 > /proc/sys/kernel/hung_task_timeout_secs" disables this message.
[  300.000000] rcu: INFO: rcu_preempt self-detected stall on CPU
[  300.000100] rcu:     0-....: (20999 ticks this GP) idle=8d4c/1/0x4000000000000000
`));
  assert.deepEqual(crashes.map((c) => [c.kind, c.line]), [
    ["soft-lockup", 0],
    ["hard-lockup", 10],
    ["hung-task", 11],
    ["rcu-stall", 14],
  ]);
  assert.equal(crashes[0].trace.length, 10);
  assert.equal(crashes[2].trace.length, 3);
});

Deno.test("detectCrashes() treats kernel BUG plus invalid opcode as one report", () => {
  const crashes = detectCrashes(consoleOf(`
[    7.000000] ------------[ cut here ]------------
[    7.000010] kernel BUG at arch/x86/kvm/tciodd.c:301!
[    7.000020] invalid opcode: 0000 [#1] PREEMPT SMP NOPTI
[    7.000030] CPU: 0 PID: 412 Comm: qemu-system-x86 Not tainted 6.1.0 #1
[    7.000040] ---[ end trace 0000000000000000 ]---
`));
  assert.equal(crashes.length, 1);
  assert.equal(crashes[0].kind, "bug");
  assert.equal(crashes[0].trace.length, 5);
});

Deno.test("detectCrashes() recognises modern Oops lines and other BUG reports", () => {
  const crashes = detectCrashes([
    "[ 1.0] Oops: general protection fault, probably for non-canonical address 0xdffffc0000000003: 0000 [#1] PREEMPT SMP KASAN NOPTI",
    "[ 1.1] KASAN: null-ptr-deref in range [0x0000000000000018-0x000000000000001f]",
    "[ 1.2] ---[ end trace 0000000000000000 ]---",
    "[ 2.0] BUG: sleeping function called from invalid context at kernel/locking/mutex.c:580",
    "[ 3.0] BUG: KFENCE: out-of-bounds read in tciodd_parse+0x44/0x90",
    "[ 4.0] UBSAN: shift-out-of-bounds in arch/x86/kvm/tciodd.c:77:20",
    "[ 5.0] general protection fault: 0000 [#1] SMP",
    "[ 6.0] Attempted to kill init! exitcode=0x0000000b",
  ]);
  assert.deepEqual(crashes.map((c) => c.kind), [
    "oops",
    "bug",
    "kfence",
    "ubsan",
    "oops",
    "init-killed",
  ]);
  assert.equal(crashes[0].trace.length, 3);
});

Deno.test("detectCrashes() bounds a report without an end", () => {
  const lines = ["[ 1.0] BUG: scheduling while atomic: swapper/0/0/0x00000002"];
  for (let i = 0; i < 500; i++) lines.push(`[ 1.${i}] noise ${i}`);
  const [crash] = detectCrashes(lines, { maxTraceLines: 40 });
  assert.equal(crash.trace.length, 40);
  assert.equal(detectCrashes(lines)[0].trace.length, 150);
});

Deno.test("detectCrashes() reads consoles without timestamps and with CRLF", () => {
  const crashes = detectCrashes([
    "Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)\r",
    "CPU: 0 PID: 1 Comm: swapper/0 Not tainted 6.1.0 #1\r",
  ]);
  assert.equal(crashes.length, 1);
  assert.equal(
    crashes[0].summary,
    "Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)",
  );
  assert.deepEqual(crashes[0].trace, [
    "Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)",
    "CPU: 0 PID: 1 Comm: swapper/0 Not tainted 6.1.0 #1",
  ]);
});
