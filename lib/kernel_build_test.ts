import assert from "node:assert/strict";
import { assertEquals, assertMatch } from "./test_assert.ts";
import {
  BuildError,
  configDistance,
  droppedOptions,
  KernelBuilder,
  normalizeConfig,
  parseConfig,
  releaseFromMakefile,
} from "./kernel_build.ts";
import { run, type RunOptions, type RunResult } from "./proc.ts";

Deno.test("normalizeConfig keeps only option lines, so equal configs compare equal", () => {
  const a =
    "#\n# Automatically generated file; DO NOT EDIT.\n# Linux/x86 6.1.192 Kernel Configuration\n" +
    '#\nCONFIG_CC_VERSION_TEXT="gcc 12"\nCONFIG_KVM=y\n\n# CONFIG_KVM_TCIODD is not set\n# end of x\n';
  const b = '# Linux/x86 6.1.193 Kernel Configuration\nCONFIG_CC_VERSION_TEXT="gcc 12"\n' +
    "CONFIG_KVM=y\n# CONFIG_KVM_TCIODD is not set\n";
  assertEquals(normalizeConfig(a), normalizeConfig(b));
  assertEquals(
    normalizeConfig(a),
    'CONFIG_CC_VERSION_TEXT="gcc 12"\nCONFIG_KVM=y\n# CONFIG_KVM_TCIODD is not set\n',
  );
});

Deno.test("droppedOptions names options an unmet dependency removed", () => {
  const frag = parseConfig("CONFIG_KVM_TCIODD=y\nCONFIG_KVM=y\n# CONFIG_DEBUG is not set\n");
  const final = parseConfig("CONFIG_KVM=y\n# CONFIG_KVM_TCIODD is not set\n");
  assertEquals(droppedOptions(frag, final), ["CONFIG_KVM_TCIODD=y (final .config: not set)"]);
});

Deno.test("configDistance counts differing options, absent meaning not set", () => {
  const a = parseConfig("CONFIG_A=y\nCONFIG_B=y\n# CONFIG_C is not set\n");
  const b = parseConfig("CONFIG_A=y\nCONFIG_C=m\n");
  assertEquals(configDistance(a, b), 2);
  assertEquals(configDistance(a, a), 0);
});

Deno.test("releaseFromMakefile reads the kernel release", () => {
  const mk = "VERSION = 6\nPATCHLEVEL = 12\nSUBLEVEL = 117\nEXTRAVERSION =\nNAME = Baby Opossum\n";
  assertEquals(releaseFromMakefile(mk), "6.12.117");
});

/**
 * A fake toolchain: tar makes a tree, make writes a .config or a bzImage (or fails); cp and rsync
 * are the real ones.
 */
function fakeRunner(calls: string[], failBuild = false) {
  return (cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> => {
    const line = `${cmd.split("/").pop()} ${args.join(" ")}`;
    calls.push(line);
    const ok = (stdout = ""): RunResult => ({
      code: 0,
      signal: null,
      stdout,
      stderr: "",
      timedOut: false,
    });
    const o = args.find((a) => a.startsWith("O="))?.slice(2);
    if (cmd === "tar") {
      const dir = args[args.indexOf("-C") + 1];
      Deno.mkdirSync(`${dir}/scripts/kconfig`, { recursive: true });
      Deno.writeTextFileSync(`${dir}/Makefile`, "VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 9\n");
    } else if (cmd === "gcc") {
      return Promise.resolve(ok("gcc (Debian 12.2.0-14) 12.2.0\n"));
    } else if (cmd.endsWith("merge_config.sh")) {
      const out = args[args.indexOf("-O") + 1];
      const frags = args.slice(args.indexOf("-O") + 3);
      const text = frags.map((f) => Deno.readTextFileSync(f)).join("\n");
      Deno.writeTextFileSync(`${out}/.config`, text);
    } else if (cmd === "make" && args.includes("tinyconfig")) {
      Deno.writeTextFileSync(`${o}/.config`, "CONFIG_64BIT=y\n");
    } else if (cmd === "make" && args.includes("bzImage")) {
      if (failBuild) {
        Deno.writeTextFileSync(opts.logFile!, "vmdd.c:1: error: boom\n", { append: true });
        return Promise.resolve({ ...ok(), code: 2 });
      }
      Deno.mkdirSync(`${o}/arch/x86/boot`, { recursive: true });
      Deno.writeTextFileSync(`${o}/arch/x86/boot/bzImage`, "kernel");
    } else if (cmd === "cp" || cmd === "rsync") {
      return new Deno.Command(cmd, { args }).output().then((r) => ({ ...ok(), code: r.code }));
    }
    return Promise.resolve(ok());
  };
}

async function fixture(): Promise<{ repo: string; cache: string; tarball: string; frag: string }> {
  const root = await Deno.makeTempDir({ prefix: "vtcio-kb-" });
  const repo = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
  const frag = `${root}/x.config`;
  await Deno.writeTextFile(frag, "CONFIG_KVM=y\n");
  await Deno.writeTextFile(`${root}/linux.tar.xz`, "not really");
  return { repo, cache: `${root}/cache`, tarball: `${root}/linux.tar.xz`, frag };
}

Deno.test("KernelBuilder builds once, then answers from the cache", async () => {
  const f = await fixture();
  const calls: string[] = [];
  const b = new KernelBuilder({ repo: f.repo, cache: f.cache }, fakeRunner(calls));
  const a1 = await b.build({ version: "6.1", fragments: [f.frag] }, f.tarball);
  assertEquals(a1.cached, false);
  assertEquals(await Deno.readTextFile(a1.bzImage), "kernel");
  const builds = calls.filter((c) => c.includes("bzImage")).length;
  const b2 = new KernelBuilder({ repo: f.repo, cache: f.cache }, fakeRunner(calls));
  const a2 = await b2.build({ version: "6.1", fragments: [f.frag] }, f.tarball);
  assertEquals(a2.cached, true);
  assertEquals(a2.key, a1.key);
  assertEquals(calls.filter((c) => c.includes("bzImage")).length, builds);
  await Deno.remove(f.cache, { recursive: true });
});

Deno.test("KernelBuilder: two cells with one config share one build", async () => {
  const f = await fixture();
  const calls: string[] = [];
  const b = new KernelBuilder({ repo: f.repo, cache: f.cache }, fakeRunner(calls));
  const [x, y] = await Promise.all([
    b.build({ version: "6.1", fragments: [f.frag] }, f.tarball),
    b.build({ version: "6.1", fragments: [f.frag] }, f.tarball),
  ]);
  assertEquals(x.key, y.key);
  assertEquals(calls.filter((c) => c.includes("bzImage")).length, 1);
  await Deno.remove(f.cache, { recursive: true });
});

Deno.test("KernelBuilder: a failed build is a BuildError with the log's tail, and not cached", async () => {
  const f = await fixture();
  const b = new KernelBuilder({ repo: f.repo, cache: f.cache }, fakeRunner([], true));
  let err: unknown;
  try {
    await b.build({ version: "6.1", fragments: [f.frag] }, f.tarball);
  } catch (e) {
    err = e;
  }
  if (!(err instanceof BuildError)) throw new Error(`expected a BuildError, got ${err}`);
  assertMatch(err.tail, /vmdd\.c:1: error: boom/);
  const ok = new KernelBuilder({ repo: f.repo, cache: f.cache }, fakeRunner([]));
  assertEquals((await ok.build({ version: "6.1", fragments: [f.frag] }, f.tarball)).cached, false);
  await Deno.remove(f.cache, { recursive: true });
});

Deno.test("KernelBuilder warns when two fragment lists give the same final .config", async () => {
  const f = await fixture();
  const other = `${f.frag}.dup`;
  // The fake merge concatenates fragments; a comment-only fragment changes nothing.
  await Deno.writeTextFile(other, "# CONFIG_KVM_TCIODD=y was meant here\n");
  const warnings: string[] = [];
  const b = new KernelBuilder(
    { repo: f.repo, cache: f.cache },
    fakeRunner([]),
    2,
    (w) => warnings.push(w),
  );
  const a = await b.build({ version: "6.1", fragments: [f.frag] }, f.tarball);
  const c = await b.build({ version: "6.1", fragments: [f.frag, other] }, f.tarball);
  assertEquals(a.key, c.key);
  assertEquals(warnings.length, 1);
  assertMatch(warnings[0], /x\.config \+ x\.config\.dup gives the same 6\.1 \.config as x\.config/);
  assertEquals(c.sameConfigAs, [[f.frag]]);
  await Deno.remove(f.cache, { recursive: true });
});

Deno.test("KernelBuilder: checkouts sharing a cache never build from each other's sources", async () => {
  const f = await fixture();
  // Two checkouts whose guest drivers differ: two patch series for one version.
  const repos: string[] = [];
  for (const name of ["a", "b"]) {
    const repo = `${f.cache}/../repo-${name}`;
    await Deno.mkdir(repo, { recursive: true });
    await new Deno.Command("cp", { args: ["-r", `${f.repo}/kernel`, repo] }).output();
    await Deno.writeTextFile(
      `${repo}/kernel/drivers/misc/tciodd/ktciodd.c`,
      `/* checkout ${name} */\n`,
      { append: true },
    );
    repos.push(repo);
  }
  // make bzImage: the tree's patch stamp at the start and after a pause must be the same, and
  // the image records it.
  const seen: string[] = [];
  const builder = (repo: string) => {
    const calls: string[] = [];
    const base = fakeRunner(calls);
    return new KernelBuilder({ repo, cache: f.cache }, async (cmd, args, opts) => {
      if (cmd === "make" && args.includes("bzImage")) {
        const tree = args[args.indexOf("-C") + 1];
        const before = await Deno.readTextFile(`${tree}/.vtcio-patches`);
        await new Promise((r) => setTimeout(r, 50));
        const after = await Deno.readTextFile(`${tree}/.vtcio-patches`);
        seen.push(`${before} ${after}`);
        const o = args.find((a) => a.startsWith("O="))!.slice(2);
        await Deno.mkdir(`${o}/arch/x86/boot`, { recursive: true });
        await Deno.writeTextFile(`${o}/arch/x86/boot/bzImage`, before);
        return { code: 0, signal: null, stdout: "", stderr: "", timedOut: false };
      }
      return base(cmd, args, opts);
    });
  };
  const [a, b] = repos.map(builder);
  const spec = { version: "6.1", fragments: [f.frag] };
  const [ka, kb] = await Promise.all([a.build(spec, f.tarball), b.build(spec, f.tarball)]);
  const [ta, tb] = await Promise.all([a.tree("6.1", f.tarball), b.tree("6.1", f.tarball)]);
  assert.notEqual(ta.patchHash, tb.patchHash);
  assert.equal(ta.dir, tb.dir, "one tree per version, shared");
  assert.equal(await Deno.readTextFile(ka.bzImage), ta.patchHash);
  assert.equal(await Deno.readTextFile(kb.bzImage), tb.patchHash);
  assert.notEqual(ka.key, kb.key);
  for (const s of seen) {
    const [before, after] = s.split(" ");
    assert.equal(after, before, "the tree changed under a running build");
  }
  assert.equal(seen.length, 2);
});

Deno.test("KernelBuilder.lookup finds a cached kernel and never extracts, configures or builds", async () => {
  const f = await fixture();
  const calls: string[] = [];
  const spec = { version: "6.1", fragments: [f.frag] };
  const fresh = new KernelBuilder({ repo: f.repo, cache: f.cache }, fakeRunner(calls));
  assertEquals(await fresh.lookup(spec, f.tarball), undefined, "empty cache");
  assertEquals(calls, [], "nothing ran for an empty cache");
  const built = await fresh.build(spec, f.tarball);
  const b = new KernelBuilder({ repo: f.repo, cache: f.cache }, fakeRunner(calls));
  calls.length = 0;
  const found = await b.lookup(spec, f.tarball);
  assertEquals([found?.key, found?.bzImage, found?.cached], [built.key, built.bzImage, true]);
  assertEquals(calls, ["gcc --version"], "only the compiler's version, for the key");
  const other = `${f.frag}.other`;
  await Deno.writeTextFile(other, "CONFIG_KVM_AMD=y\n");
  assertEquals(await b.lookup({ version: "6.1", fragments: [other] }, f.tarball), undefined);
  await Deno.writeTextFile(built.bzImage, "");
  assertEquals(await b.lookup(spec, f.tarball), undefined, "a damaged entry is not a hit");
  await Deno.remove(f.cache, { recursive: true });
});

Deno.test("KernelBuilder: a tree moves between checkouts' series by their files alone, ending as a fresh prepare", async () => {
  const root = await Deno.makeTempDir({ prefix: "vtcio-sparse-" });
  try {
    // A tiny pristine tree: a Makefile, the files the fake series patch, one they never touch.
    const pristine: Record<string, string> = {
      "Makefile": "VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 9\n",
      "drivers/misc/Kconfig": "menu misc\nendmenu\n",
      "arch/x86/kvm/x86.c": "int x86;\n",
      "kernel/sched.c": "int sched;\n",
    };
    const patch = (file: string, line: string) =>
      [
        `--- a/${file}`,
        `+++ b/${file}`,
        "@@ -1 +1,2 @@",
        ` ${pristine[file].split("\n")[0]}`,
        `+${line}`,
        "",
      ].join("\n");
    // Checkout a patches Kconfig; checkout b patches Kconfig otherwise, and x86.c too.
    const repos: Record<string, string> = {};
    for (
      const [name, patches] of Object.entries({
        a: [patch("drivers/misc/Kconfig", 'source "a"')],
        b: [patch("drivers/misc/Kconfig", 'source "b"'), patch("arch/x86/kvm/x86.c", "int b;")],
      })
    ) {
      const repo = `${root}/repo-${name}`;
      await Deno.mkdir(repo);
      const kernel = new URL("../kernel", import.meta.url).pathname;
      await run("cp", ["-r", kernel, repo]);
      await Deno.remove(`${repo}/kernel/patches/6.1`, { recursive: true });
      await Deno.mkdir(`${repo}/kernel/patches/6.1`);
      for (const [i, p] of patches.entries()) {
        await Deno.writeTextFile(`${repo}/kernel/patches/6.1/000${i + 1}-x.patch`, p);
      }
      await Deno.writeTextFile(`${repo}/kernel/drivers/misc/tciodd/ktciodd.c`, `/* ${name} */\n`);
      repos[name] = repo;
    }
    const tarball = `${root}/linux.tar.xz`;
    await Deno.writeTextFile(tarball, "");
    const cache = `${root}/cache`;
    const calls: string[] = [];
    const runner = async (cmd: string, args: string[], opts?: RunOptions) => {
      calls.push(cmd.split("/").pop()!);
      if (cmd !== "tar") return await run(cmd, args, opts);
      const dir = args[args.indexOf("-C") + 1];
      for (const [path, text] of Object.entries(pristine)) {
        await Deno.mkdir(`${dir}/${path.slice(0, path.lastIndexOf("/") + 1)}`, {
          recursive: true,
        });
        await Deno.writeTextFile(`${dir}/${path}`, text);
      }
      return { code: 0, signal: null, stdout: "", stderr: "", timedOut: false };
    };
    /** The tree as a fresh copy of the pristine tree prepared with `name`'s series would be. */
    const fresh = async (name: string) => {
      const dir = `${root}/fresh-${name}`;
      await Deno.remove(dir, { recursive: true }).catch(() => {});
      const t = await new KernelBuilder({ repo: repos[name], cache }, runner).tree("6.1", tarball);
      await run("cp", ["-a", t.pristine, dir]);
      const p = await run(`${repos[name]}/kernel/scripts/prepare-tree.sh`, ["6.1", dir]);
      assert.equal(p.code, 0, p.stderr);
      return dir;
    };
    const syncTo = async (name: string) => {
      const b = new KernelBuilder({ repo: repos[name], cache }, runner);
      const t = await b.tree("6.1", tarball);
      calls.length = 0;
      await b.withTree(t, () => Promise.resolve());
      const diff = await run("diff", [
        "-r",
        "--exclude=.vtcio-patches",
        "--exclude=.vtcio-touched",
        await fresh(name),
        t.dir,
      ]);
      assert.equal(diff.code, 0, `tree differs from a fresh prepare of ${name}:\n${diff.stdout}`);
      return t;
    };
    const t = await syncTo("a");
    assert.ok(calls.includes("rsync"), "the first sync copies the whole tree");
    const untouched = (await Deno.stat(`${t.dir}/kernel/sched.c`)).mtime;
    await syncTo("b");
    assert.deepEqual(
      calls,
      ["prepare-tree.sh", "prepare-tree.sh"],
      "--list, then a sparse prepare",
    );
    await syncTo("a");
    assert.equal(
      await Deno.readTextFile(`${t.dir}/arch/x86/kvm/x86.c`),
      pristine["arch/x86/kvm/x86.c"],
      "a file only b patched is the pristine one again",
    );
    assert.deepEqual((await Deno.stat(`${t.dir}/kernel/sched.c`)).mtime, untouched);
    // A tree from before the list was kept is synced whole, once.
    await Deno.remove(`${t.dir}/.vtcio-touched`);
    await syncTo("b");
    assert.ok(calls.includes("rsync"));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
