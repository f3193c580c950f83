/**
 * Corrupt cache entries: a kernel, an initramfs or the userspace programs that were cut short,
 * emptied or overwritten (a full disk, a crash with an older vtcio, a stray `>`) must be rebuilt,
 * never booted. And cells started together on a cold cache must share one build rather than
 * trip over each other's.
 */
import { assertEquals } from "./test_assert.ts";
import assert from "node:assert/strict";
import { KernelBuilder } from "./kernel_build.ts";
import { buildUserspace, initramfs, USERSPACE_PROGRAMS } from "./images.ts";
import type { Runner, RunOptions, RunResult } from "./proc.ts";
import { fakeToolchain } from "./testdata/fake_guest.ts";

const repo = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

function ok(stdout = ""): RunResult {
  return { code: 0, signal: null, stdout, stderr: "", timedOut: false };
}

/**
 * A kernel toolchain: tar makes a tree, make writes a .config or a bzImage, cp and rsync are the
 * real ones. `calls` records each command; each step yields to the event loop first, as a real
 * program would, so concurrent builds interleave.
 */
function kernelToolchain(calls: string[]): Runner {
  return async (cmd: string, args: string[], _opts: RunOptions = {}): Promise<RunResult> => {
    calls.push(`${cmd.split("/").pop()} ${args.filter((a) => !a.startsWith("/")).join(" ")}`);
    await new Promise((r) => setTimeout(r, 5));
    const o = args.find((a) => a.startsWith("O="))?.slice(2);
    if (cmd === "tar") {
      const dir = args[args.indexOf("-C") + 1];
      await Deno.mkdir(`${dir}/scripts/kconfig`, { recursive: true });
      await Deno.writeTextFile(`${dir}/Makefile`, "VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 9\n");
    } else if (cmd === "gcc") {
      return ok("gcc (Debian 12.2.0-14) 12.2.0\n");
    } else if (cmd.endsWith("merge_config.sh")) {
      const out = args[args.indexOf("-O") + 1];
      const frags = args.slice(args.indexOf("-O") + 3);
      const text = (await Promise.all(frags.map((f) => Deno.readTextFile(f)))).join("\n");
      await Deno.writeTextFile(`${out}/.config`, `CONFIG_64BIT=y\n${text}`);
    } else if (cmd === "make" && args.includes("tinyconfig")) {
      await Deno.writeTextFile(`${o}/.config`, "CONFIG_64BIT=y\n");
    } else if (cmd === "make" && args.includes("bzImage")) {
      await Deno.mkdir(`${o}/arch/x86/boot`, { recursive: true });
      await Deno.writeTextFile(`${o}/arch/x86/boot/bzImage`, "a kernel image\n".repeat(100));
    } else if (cmd === "rsync" || cmd === "cp") {
      const r = await new Deno.Command(cmd, { args }).output();
      return { ...ok(), code: r.code };
    }
    return ok();
  };
}

async function withRoot(fn: (root: string) => Promise<void>): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "vtcio-faults-cache-" });
  try {
    await fn(root);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

async function kernelFixture(root: string) {
  const frag = `${root}/x.config`;
  await Deno.writeTextFile(frag, "CONFIG_KVM=y\n");
  await Deno.writeTextFile(`${root}/linux.tar.xz`, "not really");
  return {
    cache: `${root}/cache`,
    tarball: `${root}/linux.tar.xz`,
    spec: { version: "6.1", fragments: [frag] },
  };
}

const bzImageBuilds = (calls: string[]) => calls.filter((c) => c.endsWith(" bzImage")).length;

Deno.test("faults: a damaged kernel cache entry is rebuilt, never handed out", () =>
  withRoot(async (root) => {
    const f = await kernelFixture(root);
    const calls: string[] = [];
    const fresh = () => new KernelBuilder({ repo, cache: f.cache }, kernelToolchain(calls));
    const good = await fresh().build(f.spec, f.tarball);
    const image = await Deno.readFile(good.bzImage);
    const out = good.bzImage.replace(/\/bzImage$/, "");
    assertEquals((await fresh().build(f.spec, f.tarball)).cached, true, "a whole entry is a hit");

    const damage: Record<string, () => Promise<void>> = {
      "bzImage emptied": () => Deno.writeFile(`${out}/bzImage`, new Uint8Array()),
      "bzImage cut short": () => Deno.writeFile(`${out}/bzImage`, image.slice(0, 100)),
      "bzImage overwritten, same size": () =>
        Deno.writeFile(`${out}/bzImage`, new Uint8Array(image.length).fill(0x41)),
      "bzImage missing": () => Deno.remove(`${out}/bzImage`),
      "meta.json missing": () => Deno.remove(`${out}/meta.json`),
      "meta.json garbage": () => Deno.writeTextFile(`${out}/meta.json`, '{"key": '),
      "meta.json of another key": async () => {
        const meta = JSON.parse(await Deno.readTextFile(`${out}/meta.json`));
        await Deno.writeTextFile(`${out}/meta.json`, JSON.stringify({ ...meta, key: "other" }));
      },
    };
    for (const [name, harm] of Object.entries(damage)) {
      await harm();
      const before = bzImageBuilds(calls);
      const again = await fresh().build(f.spec, f.tarball);
      assertEquals([name, again.cached, bzImageBuilds(calls)], [name, false, before + 1]);
      assertEquals(await Deno.readFile(again.bzImage), image, name);
      assertEquals((await fresh().build(f.spec, f.tarball)).cached, true, `${name}: then a hit`);
    }
  }));

Deno.test("faults: cells that build one config at once configure it once", () =>
  withRoot(async (root) => {
    const f = await kernelFixture(root);
    const calls: string[] = [];
    const b = new KernelBuilder({ repo, cache: f.cache }, kernelToolchain(calls));
    const built = await Promise.all([1, 2, 3].map(() => b.build(f.spec, f.tarball)));
    assertEquals(new Set(built.map((a) => a.key)).size, 1);
    assertEquals(calls.filter((c) => c.endsWith(" tinyconfig")).length, 1);
    assertEquals(bzImageBuilds(calls), 1);
  }));

Deno.test("faults: a damaged initramfs in the cache is rebuilt", () =>
  withRoot(async (root) => {
    const paths = { repo, cache: `${root}/cache`, busybox: `${root}/busybox` };
    await Deno.writeTextFile(`${root}/init`, "#!/bin/sh\necho hi\n");
    const files = [{ from: `${root}/init`, to: "init", mode: 0o755 }];
    const path = await initramfs("l1", files, [], paths);
    const whole = await Deno.readFile(path);
    const damage: Record<string, Uint8Array> = {
      "zero bytes": new Uint8Array(),
      "cut short": whole.slice(0, 100),
      "not gzip": new Uint8Array(whole.length).fill(0x41),
    };
    for (const [name, bytes] of Object.entries(damage)) {
      await Deno.writeFile(path, bytes);
      assertEquals(await initramfs("l1", files, [], paths), path, name);
      assertEquals(await Deno.readFile(path), whole, name);
    }
  }));

Deno.test("faults: damaged userspace programs are rebuilt; a cold cache builds them once", () =>
  withRoot(async (root) => {
    const paths = { repo, cache: `${root}/cache`, busybox: `${root}/busybox` };
    let makes = 0;
    const counting: Runner = (cmd, args, opts) => {
      if (cmd === "make") makes++;
      return fakeToolchain(cmd, args, opts);
    };
    const dirs = await Promise.all([1, 2, 3].map(() => buildUserspace(paths, counting)));
    assertEquals([new Set(dirs).size, makes], [1, 1]);
    const dir = dirs[0];
    assertEquals(await buildUserspace(paths, counting), dir);
    assertEquals(makes, 1, "a whole entry is a hit");

    const damage: Record<string, () => Promise<void>> = {
      "a program missing": () => Deno.remove(`${dir}/${USERSPACE_PROGRAMS[0]}`),
      "a program emptied": () => Deno.writeTextFile(`${dir}/${USERSPACE_PROGRAMS[1]}`, ""),
      ".done of another key": () => Deno.writeTextFile(`${dir}/.done`, "other"),
    };
    for (const [name, harm] of Object.entries(damage)) {
      await harm();
      const before = makes;
      assertEquals(await buildUserspace(paths, counting), dir, name);
      assertEquals(makes, before + 1, name);
      for (const p of USERSPACE_PROGRAMS) {
        assert.ok((await Deno.stat(`${dir}/${p}`)).size > 0, `${name}: ${p}`);
      }
    }
  }));
