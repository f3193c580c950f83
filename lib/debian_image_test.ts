import { assert_, assertEquals, assertMatch } from "./test_assert.ts";
import {
  baseKey,
  bootstrapBlock,
  DEBIAN_GUEST_APPEND,
  debianDriveArgs,
  debianImage,
  debianRelease,
  imageKey,
  parseManifest,
} from "./debian_image.ts";
import { BuildError } from "./kernel_build.ts";
import { buildUserspace } from "./images.ts";
import { run, type RunOptions, type RunResult } from "./proc.ts";
import { cpioArchive } from "./cpio.ts";

const RECIPE_TEXT = `#!/bin/sh
set -eu
# vtcio-bootstrap-begin
PACKAGES=linux-image-amd64,gcc
bootstrap() { debootstrap --variant=minbase --include="$PACKAGES" "$1" "$2" "$3"; }
# vtcio-bootstrap-end
echo building
`;

const tempDirs: string[] = [];

/** A checkout with just what an image is built from (removed by the last test). */
async function fakeRepo(): Promise<{ repo: string; cache: string; suite: string }> {
  const top = await Deno.makeTempDir({ prefix: "vtcio-debian-test-" });
  tempDirs.push(top);
  const repo = `${top}/repo`;
  const files: Record<string, string> = {
    "guest-images/debian/recipe.sh": RECIPE_TEXT,
    "guest-images/debian/init": "#!/bin/sh\necho vtcio-l2: init\n",
    "guest-images/debian/foreign-blob": "#!/bin/sh\n",
    "kernel/drivers/misc/tciodd/Makefile": "obj-$(CONFIG_KTCIODD) += ktciodd.o\n",
    "kernel/drivers/misc/tciodd/ktciodd.c": "/* v1 */\n",
    "kernel/drivers/misc/tciodd/tciodd_host.c": "/* host side, not in the guest */\n",
    "kernel/include/uapi/linux/tciodd.h": "#define TCIO 1\n",
    "kernel/include/linux/tciodd.h": "#include <uapi/linux/tciodd.h>\n",
  };
  for (const [path, text] of Object.entries(files)) {
    await Deno.mkdir(`${repo}/${path.slice(0, path.lastIndexOf("/"))}`, { recursive: true });
    await Deno.writeTextFile(`${repo}/${path}`, text);
  }
  const suite = `${top}/tcio-guest-suite`;
  await Deno.writeTextFile(suite, "suite v1");
  return { repo, cache: `${top}/cache`, suite };
}

const ok = (): RunResult => ({ code: 0, signal: null, stdout: "", stderr: "", timedOut: false });

/** A fake recipe: records its calls and makes what the real one would (or fails when told). */
function fakeRecipe(behaviour: { failImage?: boolean; noRootfs?: boolean } = {}) {
  const calls: string[][] = [];
  const runner = async (cmd: string, args: string[], opts?: RunOptions): Promise<RunResult> => {
    calls.push([cmd, ...args]);
    if (opts?.logFile) await Deno.writeTextFile(opts.logFile, `log of ${args[1]}\n`);
    if (args[1] === "--bootstrap-only") {
      await Deno.mkdir(`${args[3]}/lib/modules/6.1.0-9-amd64`, { recursive: true });
      return ok();
    }
    const out = args[2];
    if (behaviour.failImage) {
      await Deno.writeTextFile(opts!.logFile!, "vtcio-recipe: error: vermagic mismatch\n", {
        append: true,
      });
      return { ...ok(), code: 1 };
    }
    for (const f of ["vmlinuz", "initrd.img", ...(behaviour.noRootfs ? [] : ["rootfs.ext4"])]) {
      await Deno.writeTextFile(`${out}/${f}`, f);
    }
    await Deno.writeTextFile(
      `${out}/manifest.txt`,
      "release=bookworm\nkernel_release=6.1.0-9-amd64\npackage linux-image-amd64=6.1.99-1\n",
    );
    return ok();
  };
  return { calls, runner };
}

const isBootstrap = (c: string[]) => c[2] === "--bootstrap-only";

/** The BuildError a promise must reject with. */
async function buildError(p: Promise<unknown>): Promise<BuildError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  if (!(err instanceof BuildError)) throw new Error(`expected a BuildError, got ${err}`);
  return err;
}

Deno.test("debianRelease maps matrix guest values", () => {
  assertEquals(debianRelease("debian-bookworm"), "bookworm");
  assertEquals(debianRelease("debian-trixie"), "trixie");
  assertEquals(debianRelease("busybox"), undefined);
  assertEquals(debianRelease("debian-sid"), undefined);
});

Deno.test("debianDriveArgs attaches the root read-only and escapes commas", () => {
  assertEquals(debianDriveArgs("/c/images/debian-bookworm-1/rootfs.ext4"), [
    "-drive",
    "file=/c/images/debian-bookworm-1/rootfs.ext4,if=virtio,format=raw,readonly=on,file.locking=off",
  ]);
  assertMatch(debianDriveArgs("/a,b/rootfs.ext4")[1], /^file=\/a,,b\/rootfs\.ext4,/);
  assertMatch(
    DEBIAN_GUEST_APPEND,
    /\broot=\/dev\/vda\b.*\bro\b.*\binit=\/usr\/local\/sbin\/vtcio-init/,
  );
});

Deno.test("bootstrapBlock takes the marked block and insists on it", () => {
  const block = bootstrapBlock(RECIPE_TEXT);
  assertMatch(block, /^# vtcio-bootstrap-begin\n/);
  assertMatch(block, /PACKAGES=linux-image-amd64,gcc/);
  assertMatch(block, /# vtcio-bootstrap-end$/);
  assert_.throws(
    () => bootstrapBlock("#!/bin/sh\necho no block\n"),
    /no "# vtcio-bootstrap-begin"/,
  );
});

Deno.test("the real recipe has a bootstrap block naming the kernel and headers", async () => {
  const recipe = await Deno.readTextFile(
    new URL("../guest-images/debian/recipe.sh", import.meta.url),
  );
  const block = bootstrapBlock(recipe);
  assertMatch(block, /PACKAGES=.*linux-image-amd64/);
  assertMatch(block, /linux-headers-amd64/);
  assertMatch(block, /--variant=minbase/);
});

Deno.test("baseKey depends on the release and the bootstrap block only", async () => {
  const k = await baseKey("bookworm", RECIPE_TEXT);
  assertEquals(k.length, 24);
  assertEquals(await baseKey("bookworm", RECIPE_TEXT + "echo more image steps\n"), k);
  assert_.notEqual(await baseKey("trixie", RECIPE_TEXT), k);
  assert_.notEqual(
    await baseKey("bookworm", RECIPE_TEXT.replace("gcc", "gcc,make")),
    k,
    "a new package must give a new bare tree",
  );
});

Deno.test("imageKey follows the driver, header, recipe, suite and release, not the host side", async () => {
  const { repo, suite } = await fakeRepo();
  const k = await imageKey("bookworm", repo, suite);
  const changed = async (path: string, text: string): Promise<string> => {
    const old = await Deno.readTextFile(path);
    await Deno.writeTextFile(path, text);
    const key = await imageKey("bookworm", repo, suite);
    await Deno.writeTextFile(path, old);
    return key;
  };
  assert_.notEqual(await changed(`${repo}/kernel/drivers/misc/tciodd/ktciodd.c`, "/* v2 */"), k);
  assert_.notEqual(await changed(`${repo}/kernel/include/uapi/linux/tciodd.h`, "#define X"), k);
  assert_.notEqual(await changed(`${repo}/guest-images/debian/init`, "#!/bin/sh\n"), k);
  assert_.notEqual(await changed(`${repo}/guest-images/debian/recipe.sh`, RECIPE_TEXT + "#\n"), k);
  assert_.notEqual(await changed(suite, "suite v2"), k);
  assertEquals(await changed(`${repo}/kernel/drivers/misc/tciodd/tciodd_host.c`, "/* x */"), k);
  assert_.notEqual(await imageKey("trixie", repo, suite), k);
  assertEquals(await imageKey("bookworm", repo, suite), k);
});

Deno.test("parseManifest reads fields and package versions", () => {
  const m = parseManifest(
    "release=trixie\nkernel_release=6.12.1-amd64\npackage linux-headers-amd64=6.12.1-1\n" +
      "ktciodd_vermagic=6.12.1-amd64 SMP preempt mod_unload modversions \nnoise\n",
  );
  assertEquals(m.release, "trixie");
  assertEquals(m.kernel_release, "6.12.1-amd64");
  assertEquals(m["package:linux-headers-amd64"], "6.12.1-1");
  assertEquals(m.ktciodd_vermagic, "6.12.1-amd64 SMP preempt mod_unload modversions ");
});

Deno.test("debianImage builds once, then serves the cache without running anything", async () => {
  const { repo, cache, suite } = await fakeRepo();
  const fake = fakeRecipe();
  const img = await debianImage("bookworm", { repo, cache }, suite, fake.runner);
  assertEquals(img.cached, false);
  assertEquals(img.kernelRelease, "6.1.0-9-amd64");
  assertEquals(img.dir, `${cache}/images/debian-bookworm-${img.key}`);
  assertEquals(img.rootfs, `${img.dir}/rootfs.ext4`);
  assertEquals(img.manifest["package:linux-image-amd64"], "6.1.99-1");
  assertEquals(await Deno.readTextFile(`${img.dir}/build.log`), `log of bookworm\n`);
  assertEquals(fake.calls.length, 2);
  assertEquals(fake.calls.filter(isBootstrap).length, 1);
  const build = fake.calls.find((c) => !isBootstrap(c))!;
  assertEquals(build.slice(2, 4), ["bookworm", build[3]]);
  assertMatch(build[3], /\/images\/debian-bookworm-[0-9a-f]{24}\.tmp-/);
  assertEquals(build.slice(4), [
    repo,
    "--guest-suite",
    suite,
    "--base",
    build[build.length - 1],
  ]);
  assertMatch(build[build.length - 1], /\/debian-base\/bookworm-[0-9a-f]{24}\/root$/);
  // No temporary directories left behind.
  const left = [...Deno.readDirSync(`${cache}/images`)].map((e) => e.name);
  assertEquals(left, [`debian-bookworm-${img.key}`]);

  const again = await debianImage("bookworm", { repo, cache }, suite, fake.runner);
  assertEquals(again.cached, true);
  assertEquals(again.key, img.key);
  assertEquals(fake.calls.length, 2);
});

Deno.test("debianImage: a driver change rebuilds the image from the cached bare tree", async () => {
  const { repo, cache, suite } = await fakeRepo();
  const fake = fakeRecipe();
  const first = await debianImage("bookworm", { repo, cache }, suite, fake.runner);
  await Deno.writeTextFile(`${repo}/kernel/drivers/misc/tciodd/ktciodd.c`, "/* v2 */\n");
  const second = await debianImage("bookworm", { repo, cache }, suite, fake.runner);
  assert_.notEqual(second.key, first.key);
  assertEquals(second.cached, false);
  assertEquals(fake.calls.filter(isBootstrap).length, 1, "debootstrap must not run again");
  assertEquals(fake.calls.length, 3);
  // A new package list needs a new bare tree.
  await Deno.writeTextFile(
    `${repo}/guest-images/debian/recipe.sh`,
    RECIPE_TEXT.replace("gcc", "gcc,make"),
  );
  await debianImage("bookworm", { repo, cache }, suite, fake.runner);
  assertEquals(fake.calls.filter(isBootstrap).length, 2);
});

Deno.test("debianImage: a failed build throws BuildError and keeps its log", async () => {
  const { repo, cache, suite } = await fakeRepo();
  const fake = fakeRecipe({ failImage: true });
  const err = await buildError(debianImage("bookworm", { repo, cache }, suite, fake.runner));
  assertMatch(err.message, /Debian bookworm image failed \(exit 1\)/);
  assertMatch(err.tail, /vermagic mismatch/);
  assertMatch(err.log, /\/images\/debian-bookworm-[0-9a-f]{24}\.failed\.log$/);
  assertMatch(await Deno.readTextFile(err.log), /vermagic mismatch/);
  const left = [...Deno.readDirSync(`${cache}/images`)].map((e) => e.name);
  assertEquals(left.length, 1, `only the failed log must be left, found ${left.join(", ")}`);
  // The bare tree was kept: the next attempt starts from it.
  const retry = fakeRecipe();
  await debianImage("bookworm", { repo, cache }, suite, retry.runner);
  assertEquals(retry.calls.filter(isBootstrap).length, 0);
});

Deno.test("debianImage: a recipe that succeeds without its outputs is an error", async () => {
  const { repo, cache, suite } = await fakeRepo();
  const err = await buildError(debianImage(
    "bookworm",
    { repo, cache },
    suite,
    fakeRecipe({ noRootfs: true }).runner,
  ));
  assertMatch(err.message, /made no rootfs\.ext4/);
});

Deno.test("debianImage: a missing guest suite is named in the error", async () => {
  const { repo, cache } = await fakeRepo();
  const fake = fakeRecipe();
  await assert_.rejects(
    debianImage("bookworm", { repo, cache }, `${repo}/nope`, fake.runner),
    /No guest suite at .*\/nope: build kernel\/userspace first/,
  );
  assertEquals(fake.calls.length, 0);
});

Deno.test("cleanup: remove the fake checkouts", async () => {
  for (const d of tempDirs.splice(0)) await Deno.remove(d, { recursive: true });
});

// The real thing: debootstrap, the module build in the chroot, the image, and a boot of the image
// under QEMU TCG (no KVM: /dev/ktciodd0 must exist, and open must fail with ENODEV).
const slowReason = Deno.env.get("VTCIO_SLOW_TESTS") === "1"
  ? (Deno.uid() !== 0 ? "needs root (debootstrap, chroot)" : undefined)
  : "set VTCIO_SLOW_TESTS=1 to build a real Debian bookworm image (minutes, needs root)";
if (slowReason) console.log(`debian_image: real build skipped: ${slowReason}`);

Deno.test({
  name: "debianImage builds bookworm for real and the image boots to the guest suite",
  ignore: slowReason !== undefined,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const repo = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
    const cache = Deno.env.get("VTCIO_CACHE") ?? `${repo}/.cache`;
    const userspace = await buildUserspace({ repo, cache, busybox: "/bin/busybox" });
    const t0 = performance.now();
    const img = await debianImage("bookworm", { repo, cache }, `${userspace}/tcio-guest-suite`);
    console.log(
      `debian_image: ${img.cached ? "cached" : "built"} ${img.dir} kernel ${img.kernelRelease} ` +
        `in ${((performance.now() - t0) / 1000).toFixed(1)}s`,
    );
    assertEquals(img.manifest.ktciodd_vermagic, img.manifest.kernel_vermagic);
    assertMatch(img.manifest.ktciodd_vermagic, new RegExp(`^${img.kernelRelease} `));

    // As L1 does: the image's initrd with a cpio carrying /vtcio/foreign.blob appended.
    const work = await Deno.makeTempDir({ prefix: "vtcio-debian-boot-" });
    const extra = cpioArchive([
      { type: "dir", path: "vtcio" },
      { type: "file", path: "vtcio/foreign.blob", data: new TextEncoder().encode("blob") },
    ]);
    const initrd = `${work}/initrd`;
    await Deno.writeFile(initrd, await Deno.readFile(img.initrd));
    await Deno.writeFile(initrd, extra, { append: true });
    const t1 = performance.now();
    const r = await run("qemu-system-x86_64", [
      ...["-accel", "tcg", "-cpu", "max", "-m", "512M", "-smp", "1"],
      ...["-display", "none", "-nodefaults", "-serial", "stdio", "-no-reboot"],
      ...["-kernel", img.vmlinuz, "-initrd", initrd],
      ...debianDriveArgs(img.rootfs),
      ...["-append", `console=ttyS0 panic=-1 loglevel=5 ${DEBIAN_GUEST_APPEND}`],
    ], { timeoutMs: 300_000 });
    await Deno.remove(work, { recursive: true });
    const out = r.stdout;
    console.log(`debian_image: boot to exit ${((performance.now() - t1) / 1000).toFixed(1)}s`);
    const lines = out.split("\n").filter((l) => /vtcio-l2:|^(?:not )?ok |^KTAP|^#/.test(l));
    console.log(lines.join("\n"));
    assertEquals(r.timedOut, false, `QEMU did not exit in time; console:\n${out.slice(-3000)}`);
    assertMatch(out, new RegExp(`vtcio-l2: init kernel=${img.kernelRelease} cpus=1`));
    assertMatch(out, /vtcio-l2: module ktciodd loaded/);
    assertMatch(out, /vtcio-l2: foreign blob \/run\/vtcio\/foreign\.blob/);
    assertMatch(out, /KTAP version 1/);
    assertMatch(out, /not ok 1 open # ?.*ENODEV|not ok 1 open.*ENODEV/);
    assertMatch(out, /vtcio-l2: done status=1/);
  },
});
