/**
 * Test doubles for the fault tests (lib/faults_*_test.ts, lib/proc_test.ts): a fake
 * qemu-system-x86_64 that plays both consoles (L1's on stdout, L2's through the socket boot()
 * names in `-chardev socket,id=l2con`), a fake kernel builder, a fake toolchain for the image
 * step, cells, and a check for processes left behind.
 *
 * The fake QEMU picks what to play from the cell id that boot() passes in `-append`
 * (`vtcio.cell=<id>`), so one script serves a whole run of hostile cells. Everything it starts
 * carries its directory in its command line (it runs `sleep` as `<dir>/sleep`), so
 * {@linkcode leftovers} finds any of its processes that outlived the run.
 *
 * @module
 */
import type { Cell, PhaseTimeouts } from "../types.ts";
import type { CellContext } from "../cell_run.ts";
import {
  BuildError,
  type KernelArtifact,
  KernelBuilder,
  type KernelSpec,
} from "../kernel_build.ts";
import { USERSPACE_PROGRAMS } from "../images.ts";
import type { Runner, RunResult } from "../proc.ts";

/** The measurement the fake tcvm-launch registers and the fake guest reports. */
export const MEASUREMENT = "ab".repeat(32);

const repo = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");

/** Shell functions every fake QEMU script can use (see {@linkcode fakeQemu}). */
const PRELUDE = `
here=$(dirname "$0")
sock=
cell=
for a in "$@"; do
  case "$a" in
    socket,id=l2con,path=*) sock=\${a#socket,id=l2con,path=} ;;
    *vtcio.cell=*) cell=\${a#*vtcio.cell=}; cell=\${cell%%\\"*}; cell=\${cell%% *} ;;
  esac
done
M=${MEASUREMENT}
# L2's console: like QEMU, connect to the socket once at start; l2() sends stdin to it.
if [ -n "$sock" ]; then
  mkfifo "$here/l2-$$.fifo"
  perl -MIO::Socket::UNIX -e 'my $s = IO::Socket::UNIX->new(Peer => shift) or die "l2: $!\\n";
    $| = 1; select($s); $| = 1; print $_ while <STDIN>;' "$sock" <"$here/l2-$$.fifo" &
  exec 4>"$here/l2-$$.fifo"
  rm -f "$here/l2-$$.fifo"
fi
l2() { cat >&4; }
# Sleeps as a process whose command line names this directory (see leftovers()).
nap() { "$here/sleep" "$@"; }
hang() { exec "$here/sleep" 300; }
l1_init() { echo "vtcio-l1: init kernel=6.1.0-fake"; }
host_suite() {
  printf '%s\\n' "vtcio-l1: host-suite begin" "KTAP version 1" "1..1" "ok 1 host_ping" \\
    "vtcio-l1: host-suite end status=0" "vtcio: l2 measurement=$M" \\
    "vtcio-l1: l2 start smp=1 cpu=host"
  nap 0.2
}
l2_init() { echo "vtcio-l2: init kernel=6.1.0-fake cpus=1" | l2; nap 0.2; }
l2_suite() {
  printf '%s\\n' "KTAP version 1" "1..1" "# vtcio: support=supported program_hash=$M" \\
    "ok 1 guest_ping" "vtcio-l2: done status=0" | l2
  nap 0.2
}
l1_done() { printf '%s\\n' "vtcio-l1: l2 exited status=0" "vtcio-l1: done status=0"; }
pass() { l1_init; host_suite; l2_init; l2_suite; l1_done; }
`;

/**
 * Writes `<dir>/qemu`, a fake QEMU whose body is `cases`: shell code that may use `$cell` and
 * the functions of the prelude (`pass`, `l1_init`, `host_suite`, `l2_init`, `l2_suite`,
 * `l1_done`, `l2` to write L2's console, `nap` and `hang` to sleep). Returns its path.
 */
export async function fakeQemu(dir: string, cases: string): Promise<string> {
  await Deno.copyFile("/bin/sleep", `${dir}/sleep`);
  await Deno.chmod(`${dir}/sleep`, 0o755);
  const path = `${dir}/qemu`;
  await Deno.writeTextFile(path, `#!/bin/sh\n${PRELUDE}\n${cases}\n`);
  await Deno.chmod(path, 0o755);
  return path;
}

/** Pids of live processes whose command line contains `marker` (zombies excluded). */
export async function leftovers(marker: string): Promise<number[]> {
  const r = await new Deno.Command("pgrep", { args: ["-f", marker], stdout: "piped" }).output();
  const pids = new TextDecoder().decode(r.stdout).split("\n").filter((l) => l !== "").map(Number);
  const alive: number[] = [];
  for (const pid of pids) {
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`).catch(() => "");
    // Field 3, after the parenthesised command name, is the state; Z is a zombie.
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    if (stat !== "" && state !== "Z") alive.push(pid);
  }
  return alive;
}

/** Waits up to `ms` for every process naming `marker` to be gone; returns the survivors. */
export async function waitGone(marker: string, ms = 3000): Promise<number[]> {
  const end = Date.now() + ms;
  for (;;) {
    const left = await leftovers(marker);
    if (left.length === 0 || Date.now() > end) return left;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A busybox L2 cell with short deadlines. */
export function testCell(id: string, over: Partial<Cell> = {}): Cell {
  const timeouts: PhaseTimeouts = { build: 60, l1_boot: 10, l2_boot: 10, clients: 10 };
  return {
    id,
    axes: { kernel: "6.1", testdevice: true },
    kernel: "6.1",
    testdevice: true,
    l1_smp: 1,
    l2_smp: 1,
    guest: "busybox",
    debug: "none",
    l2_cpu: "host",
    expect: { support: "supported", outcome: "pass" },
    timeouts,
    effects: {
      l1_config: [],
      l2_config: [],
      l1_qemu: [],
      l2_qemu: [],
      l1_append: [],
      l2_append: [],
    },
    origin: "fault test",
    ...over,
  };
}

/**
 * A kernel builder that builds nothing: it hands out a small file as bzImage, or fails with a
 * {@linkcode BuildError} (its log kept, as the real builder keeps it) for the versions in `fail`.
 * `l1Dropped` is what it reports dropped from every L1 configuration.
 */
export class FakeBuilder extends KernelBuilder {
  readonly built: string[] = [];

  constructor(
    readonly root: string,
    readonly fail: string[] = [],
    readonly l1Dropped: string[] = [],
  ) {
    super({ repo, cache: root });
  }

  override async build(spec: KernelSpec, _tarball: string): Promise<KernelArtifact> {
    const which = spec.fragments.some((f) => f.endsWith("/l2.config")) ? "l2" : "l1";
    const out = `${this.root}/kernels/${spec.version}-${which}`;
    await Deno.mkdir(out, { recursive: true });
    const log = `${out}/build.log`;
    if (this.fail.includes(spec.version)) {
      await Deno.writeTextFile(log, "  CC      arch/x86/kvm/vmdd.o\nvmdd.c:42: error: boom\n");
      throw new BuildError(
        `Building kernel ${spec.version} (fake) failed`,
        log,
        "vmdd.c:42: error: boom",
      );
    }
    await Deno.writeTextFile(`${out}/bzImage`, "fake kernel\n");
    await Deno.writeTextFile(log, "  BUILD   arch/x86/boot/bzImage\n");
    this.built.push(`${spec.version}-${which}`);
    return {
      key: `${spec.version}-${which}`,
      bzImage: `${out}/bzImage`,
      config: `${out}/config`,
      log,
      release: `${spec.version}.0-fake`,
      dropped: which === "l1" ? this.l1Dropped : [],
      sameConfigAs: [],
      cached: false,
      seconds: 0,
    };
  }
}

function ok(stdout = ""): RunResult {
  return { code: 0, signal: null, stdout, stderr: "", timedOut: false };
}

/** A toolchain for buildUserspace(): `make O=DIR` writes every program as a small file. */
export const fakeToolchain: Runner = async (cmd, args) => {
  if (cmd === "gcc") return ok("gcc (Debian 12.2.0-14) 12.2.0\n");
  const o = args.find((a) => a.startsWith("O="))?.slice(2);
  if (cmd === "make" && o) {
    for (const p of USERSPACE_PROGRAMS) {
      await Deno.writeTextFile(`${o}/${p}`, `#!/bin/sh\n# ${p}\n`);
    }
  }
  return ok();
};

/**
 * What every cell of a fault test shares: the fake builder, the fake toolchain, a tiny stand-in
 * for busybox (the images are real initramfs archives, built into `<root>/cache`).
 */
export async function faultContext(
  root: string,
  qemu: string,
  opts: {
    failKernels?: string[];
    l1Dropped?: string[];
    signal?: AbortSignal;
    runDir?: string;
  } = {},
): Promise<CellContext> {
  const cache = `${root}/cache`;
  await Deno.mkdir(cache, { recursive: true });
  await Deno.writeTextFile(`${root}/busybox`, "#!/bin/sh\n");
  return {
    repo,
    cache,
    builder: new FakeBuilder(cache, opts.failKernels, opts.l1Dropped),
    images: { repo, cache, busybox: `${root}/busybox` },
    runner: fakeToolchain,
    qemu,
    accel: "tcg",
    tarballs: { "6.1": `${root}/linux-6.1.tar.xz`, "6.6": `${root}/linux-6.6.tar.xz` },
    l1MemMb: 512,
    l2MemMb: 256,
    signal: opts.signal,
    runDir: opts.runDir,
  };
}
