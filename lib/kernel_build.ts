/**
 * Kernel builds: Debian's linux-source tarball, prepared with vtcio's overlay and patch series,
 * configured from tinyconfig plus config fragments (the kernel's own merge_config.sh and
 * olddefconfig), and built with ccache. Each build is cached under a key made from the source
 * release, the patch series, the normalized final .config and the compiler: cells that share a
 * config share one build directory and one bzImage.
 */
import { run, type Runner } from "./proc.ts";
import { sha256Hex, sha256OfFiles } from "./hash.ts";
import { writeFileAtomic } from "./results.ts";

/** What to build. */
export interface KernelSpec {
  /** Matrix kernel value, e.g. "6.1": names the patch series and the linux-source package. */
  version: string;
  /** Config fragments (absolute paths), merged in order over tinyconfig. */
  fragments: string[];
}

/** Where things are. */
export interface BuildPaths {
  /** The vtcio checkout. */
  repo: string;
  /** Cache root (sources, build directories, finished kernels, ccache). */
  cache: string;
  /** linux-source tarball for this version. */
  tarball: string;
}

/** A built kernel. */
export interface KernelArtifact {
  key: string;
  bzImage: string;
  config: string;
  log: string;
  /** Kernel release of the source, e.g. "6.1.192". */
  release: string;
  /** Options a fragment asked for that the final .config does not have. */
  dropped: string[];
  /**
   * Other fragment lists of this run that gave the very same final .config: the axis values
   * that chose between them made no difference (an unmet dependency dropped an option).
   */
  sameConfigAs: string[][];
  cached: boolean;
  seconds: number;
}

/** A version's source tree in the cache. */
export interface SourceTree {
  /** The tree builds use: the pristine sources plus a patch series. */
  dir: string;
  /** The sources as extracted from the tarball, never changed. */
  pristine: string;
  version: string;
  /** Hash of the patch inputs this checkout wants in the tree. */
  patchHash: string;
  /** Kernel release plus the patch hash, e.g. "6.1.192+vtcio.0123abcd". */
  release: string;
}

/** A kernel that failed to configure or build. */
export class BuildError extends Error {
  constructor(message: string, readonly log: string, readonly tail: string) {
    super(message);
    this.name = "BuildError";
  }
}

/** In a prepared tree: the paths its series touched (see KernelBuilder's tree sync). */
const TOUCHED = ".vtcio-touched";

function dirname(path: string): string {
  return path.slice(0, path.lastIndexOf("/"));
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Files whose content decides the prepared source tree. */
export function patchInputs(repo: string, version: string): string[] {
  const k = `${repo}/kernel`;
  return [
    `${k}/scripts/prepare-tree.sh`,
    `${k}/include/uapi/linux/tciodd.h`,
    `${k}/include/linux/tciodd.h`,
    `${k}/include/linux/tciodd_compat.h`,
    `${k}/arch/x86/kvm/vmdd.c`,
    `${k}/arch/x86/kvm/vmdd.h`,
    `${k}/drivers/misc/tciodd/Kconfig`,
    `${k}/drivers/misc/tciodd/Makefile`,
    `${k}/drivers/misc/tciodd/tciodd_host.c`,
    `${k}/drivers/misc/tciodd/ktciodd.c`,
    `${k}/drivers/misc/tciodd/ktciodd_fuzz.c`,
    ...[...Deno.readDirSync(`${k}/patches/${version}`)]
      .filter((e) => e.name.endsWith(".patch"))
      .map((e) => `${k}/patches/${version}/${e.name}`)
      .sort(),
  ];
}

/**
 * Keeps only the option lines of a .config (drops the generated header with the compiler and
 * kernel version, and blank lines), so that equal configurations compare equal.
 */
export function normalizeConfig(text: string): string {
  return text.split("\n")
    .filter((l) => /^CONFIG_\w+=/.test(l) || /^# CONFIG_\w+ is not set$/.test(l))
    .join("\n") + "\n";
}

/** Parses option lines of a config or fragment into name -> value ("n" for "is not set"). */
export function parseConfig(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split("\n")) {
    const set = /^(CONFIG_\w+)=(.*)$/.exec(line);
    if (set) out.set(set[1], set[2]);
    const unset = /^# (CONFIG_\w+) is not set$/.exec(line);
    if (unset) out.set(unset[1], "n");
  }
  return out;
}

/** Options requested by fragments whose final value differs (an unmet dependency dropped them). */
export function droppedOptions(
  fragments: Map<string, string>,
  final: Map<string, string>,
): string[] {
  const out: string[] = [];
  for (const [name, want] of fragments) {
    const got = final.get(name) ?? "n";
    if (got !== want) out.push(`${name}=${want} (final .config: ${got === "n" ? "not set" : got})`);
  }
  return out;
}

/** Number of options whose values differ between two configurations. */
export function configDistance(a: Map<string, string>, b: Map<string, string>): number {
  let n = 0;
  for (const k of new Set([...a.keys(), ...b.keys()])) {
    if ((a.get(k) ?? "n") !== (b.get(k) ?? "n")) n++;
  }
  return n;
}

/** Reads VERSION.PATCHLEVEL.SUBLEVEL from a kernel tree's Makefile. */
export function releaseFromMakefile(text: string): string {
  const get = (k: string) => new RegExp(`^${k} = (\\S*)`, "m").exec(text)?.[1] ?? "";
  const extra = get("EXTRAVERSION");
  return `${get("VERSION")}.${get("PATCHLEVEL")}.${get("SUBLEVEL")}${extra}`;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether `out` holds a whole cached kernel: its meta.json (written last) names `key`, and the
 * bzImage has the size and SHA-256 the meta.json recorded. An emptied, cut, overwritten or
 * foreign entry is rebuilt rather than booted. (Entries from before the hash was recorded need
 * only a non-empty bzImage.)
 */
async function wholeKernel(out: string, key: string): Promise<boolean> {
  try {
    const meta: { key?: unknown; bzImage?: { bytes?: unknown; sha256?: unknown } } | null = JSON
      .parse(await Deno.readTextFile(`${out}/meta.json`));
    if (meta?.key !== key) return false;
    const image = await Deno.readFile(`${out}/bzImage`);
    if (image.length === 0) return false;
    const want = meta.bzImage;
    if (want === undefined) return true;
    return want.bytes === image.length && want.sha256 === await sha256Hex(image);
  } catch {
    return false;
  }
}

function tail(text: string, lines = 30): string {
  return text.split("\n").slice(-lines).join("\n");
}

/** Environment for reproducible, ccache-friendly builds. */
export function buildEnv(cache: string): Record<string, string> {
  return {
    CCACHE_DIR: `${cache}/ccache`,
    CCACHE_MAXSIZE: "20G",
    CCACHE_BASEDIR: cache,
    KBUILD_BUILD_TIMESTAMP: "Thu Jan  1 00:00:00 UTC 2026",
    KBUILD_BUILD_USER: "vtcio",
    KBUILD_BUILD_HOST: "vtcio",
    LC_ALL: "C",
  };
}

/**
 * Options two configs may differ in before a build gets a directory of its own rather than
 * rebuilding another config's directory in place.
 */
export const FAR_CONFIGS = 300;

/** Builds kernels, sharing work between cells of one run. */
export class KernelBuilder {
  #trees = new Map<string, Promise<SourceTree>>();
  #builds = new Map<string, Promise<KernelArtifact>>();
  /** Builds run one at a time: each uses every core, and a later one seeds from an earlier. */
  #lock: Promise<unknown> = Promise.resolve();
  /** Fragment lists seen per final-config key, to spot axis values that changed nothing. */
  #fragmentsByKey = new Map<string, string[][]>();
  /** Configurations in progress, by config directory: concurrent cells share one. */
  #configuring = new Map<string, Promise<void>>();

  constructor(
    readonly paths: { repo: string; cache: string },
    readonly runner: Runner = run,
    readonly jobs = navigator.hardwareConcurrency || 2,
    /** Told once per new fragment list that gives the same final .config as an earlier one. */
    readonly onWarning: (message: string) => void = () => {},
  ) {}

  /**
   * The source tree for a version: its directory, release and the hash of the patch series it
   * must carry. Computed once per builder; the tree's content is only touched under
   * {@link withTree}.
   */
  tree(version: string, tarball: string): Promise<SourceTree> {
    const key = version + "\0" + tarball;
    let p = this.#trees.get(key);
    if (!p) {
      p = this.#locateTree(version, tarball);
      this.#trees.set(key, p);
      p.catch(() => this.#trees.delete(key));
    }
    return p;
  }

  /** Where a version's tree lives in the cache and the patch hash it must carry. */
  async #treePaths(version: string, tarball: string) {
    const { repo, cache } = this.paths;
    const patchHash = (await sha256OfFiles(`${repo}/kernel`, patchInputs(repo, version)))
      .slice(0, 16);
    const tarStat = await Deno.stat(tarball);
    const id = (await sha256Hex(`${tarball}\0${tarStat.size}\0${tarStat.mtime?.getTime()}`))
      .slice(0, 8);
    const dir = `${cache}/src/${version}-${id}`;
    return { dir, pristine: `${dir}.pristine`, patchHash };
  }

  async #locateTree(version: string, tarball: string): Promise<SourceTree> {
    const { dir, pristine, patchHash } = await this.#treePaths(version, tarball);
    await this.#withLock(`${dir}.lock`, async () => {
      if (await exists(`${pristine}/Makefile`)) return;
      const tmp = `${pristine}.tmp-${crypto.randomUUID().slice(0, 8)}`;
      await Deno.mkdir(tmp, { recursive: true });
      try {
        const x = await this.runner("tar", ["-xJf", tarball, "-C", tmp, "--strip-components=1"]);
        if (x.code !== 0) throw new BuildError(`Cannot extract ${tarball}`, "", x.stderr);
        await Deno.rename(tmp, pristine);
      } finally {
        await Deno.remove(tmp, { recursive: true }).catch(() => {});
      }
    });
    const release = releaseFromMakefile(await Deno.readTextFile(`${pristine}/Makefile`));
    return {
      dir,
      pristine,
      version,
      patchHash,
      release: `${release}+vtcio.${patchHash.slice(0, 8)}`,
    };
  }

  /**
   * Runs `fn` while this process holds the version's tree, with the tree carrying this
   * checkout's patch series. Every vtcio process sharing the cache (several checkouts at once)
   * takes the same lock, so a build never sees another checkout's sources. When the series
   * changed, a fresh tree is prepared aside from the pristine sources and synced in by content,
   * so unchanged files keep their times and kbuild and ccache only redo what the change touched.
   */
  withTree<T>(tree: SourceTree, fn: () => Promise<T>): Promise<T> {
    return this.#withLock(`${tree.dir}.lock`, async () => {
      await this.#syncTree(tree);
      return await fn();
    });
  }

  async #syncTree(t: SourceTree): Promise<void> {
    const stamp = `${t.dir}/.vtcio-patches`;
    if ((await Deno.readTextFile(stamp).catch(() => "")) === t.patchHash) return;
    const touched = await this.#touchedPaths(t.version);
    const listed = `${t.dir}/${TOUCHED}`;
    const before = await Deno.readTextFile(listed).then(
      (text) => text.split("\n").filter((l) => l !== ""),
      () => undefined,
    );
    if (before !== undefined && await exists(`${t.dir}/Makefile`)) {
      await this.#syncSparse(t, touched, before);
    } else {
      await this.#syncWhole(t);
    }
    await Deno.writeTextFile(listed, touched.join("\n") + "\n");
    await Deno.writeTextFile(stamp, t.patchHash);
  }

  /** Paths (relative to a tree) that preparing a tree with a series adds or changes. */
  async #touchedPaths(version: string): Promise<string[]> {
    const script = `${this.paths.repo}/kernel/scripts/prepare-tree.sh`;
    const r = await this.runner(script, ["--list", version]);
    if (r.code !== 0) {
      throw new BuildError(`Cannot list the ${version} patch series' files`, "", r.stderr);
    }
    return r.stdout.split("\n").filter((l) => l !== "");
  }

  /** A fresh prepared copy of the whole pristine tree, synced into the tree by content. */
  async #syncWhole(t: SourceTree): Promise<void> {
    const tmp = `${t.dir}.tmp-${crypto.randomUUID().slice(0, 8)}`;
    try {
      const c = await this.runner("cp", ["-a", t.pristine, tmp]);
      if (c.code !== 0) throw new BuildError(`Cannot copy ${t.pristine}`, "", c.stderr);
      await this.#prepare(t, tmp);
      await Deno.mkdir(t.dir, { recursive: true });
      await Deno.remove(`${t.dir}/.vtcio-patches`).catch(() => {});
      const r = await this.runner("rsync", [
        "-rlc",
        "--delete",
        "--exclude=/.vtcio-patches",
        `--exclude=/${TOUCHED}`,
        `${tmp}/`,
        `${t.dir}/`,
      ]);
      if (r.code !== 0) throw new BuildError(`Cannot sync ${t.dir}`, "", r.stderr);
    } finally {
      await Deno.remove(tmp, { recursive: true }).catch(() => {});
    }
  }

  /**
   * Brings a prepared tree to this checkout's series by touching only the files either series
   * touches (listed by `prepare-tree.sh --list`): a sparse copy of the pristine tree with just
   * those files is prepared, then each file is copied in if its content differs, restored from
   * the pristine tree if only the old series had it changed, or removed if only the old series
   * added it. Every other file is the pristine one in both (builds use O=), so the tree ends as
   * a whole copy would leave it, without copying and checksumming the whole tree.
   */
  async #syncSparse(t: SourceTree, touched: string[], before: string[]): Promise<void> {
    const all = [...new Set([...touched, ...before])].sort();
    // Written first: a sync cut short is redone over both lists.
    await Deno.remove(`${t.dir}/.vtcio-patches`).catch(() => {});
    await Deno.writeTextFile(`${t.dir}/${TOUCHED}`, all.join("\n") + "\n");
    const tmp = `${t.dir}.tmp-${crypto.randomUUID().slice(0, 8)}`;
    try {
      for (const path of ["Makefile", ...touched]) {
        if (!(await exists(`${t.pristine}/${path}`))) continue;
        await Deno.mkdir(dirname(`${tmp}/${path}`), { recursive: true });
        await Deno.copyFile(`${t.pristine}/${path}`, `${tmp}/${path}`);
      }
      await this.#prepare(t, tmp);
      for (const path of all) {
        const target = `${t.dir}/${path}`;
        const source = (await exists(`${tmp}/${path}`))
          ? `${tmp}/${path}`
          : (await exists(`${t.pristine}/${path}`))
          ? `${t.pristine}/${path}`
          : undefined;
        if (source === undefined) {
          await Deno.remove(target).catch(() => {});
          continue;
        }
        const want = await Deno.readFile(source);
        const have = await Deno.readFile(target).catch(() => undefined);
        if (have !== undefined && sameBytes(have, want)) continue;
        await Deno.mkdir(dirname(target), { recursive: true });
        await Deno.writeFile(target, want);
      }
    } finally {
      await Deno.remove(tmp, { recursive: true }).catch(() => {});
    }
  }

  /** Runs prepare-tree.sh on `tree`. */
  async #prepare(t: SourceTree, tree: string): Promise<void> {
    const p = await this.runner(`${this.paths.repo}/kernel/scripts/prepare-tree.sh`, [
      t.version,
      tree,
    ]);
    if (p.code !== 0) {
      throw new BuildError(`The ${t.version} patch series does not apply`, "", p.stdout + p.stderr);
    }
  }

  /** Runs `fn` holding an exclusive lock on `path` (created if missing), across processes. */
  async #withLock<T>(path: string, fn: () => Promise<T>): Promise<T> {
    await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
    const lock = await Deno.open(path, { create: true, write: true });
    try {
      await lock.lock(true);
      return await fn();
    } finally {
      lock.close();
    }
  }

  /** Configures and builds a kernel, or returns the cached one. Throws {@link BuildError}. */
  build(spec: KernelSpec, tarball: string): Promise<KernelArtifact> {
    return this.#configure(spec, tarball).then(({ key, config, release, dropped, tree }) => {
      const id = spec.fragments.join("\0");
      const seen = this.#fragmentsByKey.get(key) ?? [];
      const same = seen.filter((f) => f.join("\0") !== id);
      if (!seen.some((f) => f.join("\0") === id)) {
        if (same.length > 0) {
          const name = (f: string[]) => f.map((x) => x.split("/").pop()).join(" + ");
          this.onWarning(
            `${name(spec.fragments)} gives the same ${spec.version} .config as ${name(same[0])}: ` +
              `an option one of them sets was dropped` +
              (dropped.length ? ` (${dropped[0]})` : ""),
          );
        }
        seen.push([...spec.fragments]);
        this.#fragmentsByKey.set(key, seen);
      }
      let p = this.#builds.get(key);
      if (!p) {
        const start = this.#lock.catch(() => {});
        p = start.then(() => this.#build(key, config, release, dropped, tree));
        this.#lock = p;
        this.#builds.set(key, p);
        p.catch(() => this.#builds.delete(key));
      }
      return p.then((a) => ({ ...a, dropped, sameConfigAs: same }));
    });
  }

  /**
   * The kernel of a spec if the cache holds it whole, else undefined: nothing is extracted,
   * configured or built (a spec never configured here counts as not cached).
   */
  async lookup(spec: KernelSpec, tarball: string): Promise<KernelArtifact | undefined> {
    const { dir: tree, pristine, patchHash } = await this.#treePaths(spec.version, tarball);
    const makefile = await Deno.readTextFile(`${pristine}/Makefile`).catch(() => undefined);
    if (makefile === undefined) return undefined;
    const release = `${releaseFromMakefile(makefile)}+vtcio.${patchHash.slice(0, 8)}`;
    const fragText = await Promise.all(spec.fragments.map((f) => Deno.readTextFile(f)));
    const cfgDir = await this.#cfgDir(tree, patchHash, fragText);
    const final = await Deno.readTextFile(`${cfgDir}/.config.final`).catch(() => undefined);
    if (final === undefined) return undefined;
    const key = await this.#key(spec.version, release, tree, normalizeConfig(final));
    const out = `${this.paths.cache}/kernels/${key}`;
    if (!(await wholeKernel(out, key))) return undefined;
    return {
      key,
      bzImage: `${out}/bzImage`,
      config: `${out}/config`,
      log: `${out}/build.log`,
      release,
      dropped: [],
      sameConfigAs: [],
      cached: true,
      seconds: 0,
    };
  }

  /** The configuration directory of a tree, patch series and fragment texts. */
  async #cfgDir(tree: string, patchHash: string, fragText: string[]): Promise<string> {
    // The patch series is part of the id: it may add Kconfig options.
    const cfgId = (await sha256Hex([tree, patchHash, ...fragText].join("\0"))).slice(0, 20);
    return `${this.paths.cache}/cfg/${cfgId}`;
  }

  /** The cache key of a kernel: version, release, tree, final .config and compiler. */
  async #key(version: string, release: string, tree: string, config: string): Promise<string> {
    const gcc = await this.runner("gcc", ["--version"]);
    return (await sha256Hex(
      [version, release, tree, config, gcc.stdout.split("\n")[0]].join("\0"),
    )).slice(0, 24);
  }

  /** Final .config and cache key for a spec, without building. */
  async #configure(spec: KernelSpec, tarball: string) {
    const src = await this.tree(spec.version, tarball);
    const { dir: tree, release } = src;
    const fragText = await Promise.all(spec.fragments.map((f) => Deno.readTextFile(f)));
    const cfgDir = await this.#cfgDir(tree, src.patchHash, fragText);
    if (!(await exists(`${cfgDir}/.config.final`))) {
      let once = this.#configuring.get(cfgDir);
      if (!once) {
        once = this.withTree(src, () => this.#configureIn(cfgDir, tree, spec));
        this.#configuring.set(cfgDir, once);
        const done = () => this.#configuring.delete(cfgDir);
        once.then(done, done);
      }
      await once;
    }
    const config = normalizeConfig(await Deno.readTextFile(`${cfgDir}/.config.final`));
    const wanted = new Map<string, string>();
    for (const t of fragText) for (const [k, v] of parseConfig(t)) wanted.set(k, v);
    const dropped = droppedOptions(wanted, parseConfig(config));
    const key = await this.#key(spec.version, release, tree, config);
    return { key, config, release, dropped, tree: src };
  }

  /** Runs tinyconfig, the fragments and olddefconfig in `cfgDir`; `.config.final` last. */
  async #configureIn(cfgDir: string, tree: string, spec: KernelSpec): Promise<void> {
    await Deno.mkdir(cfgDir, { recursive: true });
    const log = `${cfgDir}/configure.log`;
    const env = buildEnv(this.paths.cache);
    const steps: [string, string[]][] = [
      ["make", ["-C", tree, `O=${cfgDir}`, "tinyconfig"]],
      [`${tree}/scripts/kconfig/merge_config.sh`, [
        "-m",
        "-O",
        cfgDir,
        `${cfgDir}/.config`,
        ...spec.fragments,
      ]],
      ["make", ["-C", tree, `O=${cfgDir}`, "olddefconfig"]],
    ];
    for (const [cmd, args] of steps) {
      const r = await this.runner(cmd, args, { cwd: tree, env, logFile: log });
      if (r.code !== 0) {
        const text = await Deno.readTextFile(log).catch(() => "");
        throw new BuildError(`Configuring ${spec.version} failed`, log, tail(text));
      }
    }
    // Atomic: a .config.final cut short would give a wrong cache key for good.
    await writeFileAtomic(`${cfgDir}/.config.final`, await Deno.readFile(`${cfgDir}/.config`));
  }

  async #build(
    key: string,
    config: string,
    release: string,
    dropped: string[],
    src: SourceTree,
  ): Promise<KernelArtifact> {
    const { cache } = this.paths;
    const out = `${cache}/kernels/${key}`;
    const artifact = (cached: boolean, seconds: number): KernelArtifact => ({
      key,
      bzImage: `${out}/bzImage`,
      config: `${out}/config`,
      log: `${out}/build.log`,
      release,
      dropped,
      sameConfigAs: [],
      cached,
      seconds,
    });
    if (await wholeKernel(out, key)) return artifact(true, 0);
    return await this.withTree(
      src,
      () => this.#buildIn(key, config, dropped, src, out, artifact),
    );
  }

  async #buildIn(
    key: string,
    config: string,
    dropped: string[],
    src: SourceTree,
    out: string,
    artifact: (cached: boolean, seconds: number) => KernelArtifact,
  ): Promise<KernelArtifact> {
    const { cache } = this.paths;
    const tree = src.dir;
    const release = src.release;
    // Another process may have built it while this one waited for the tree.
    if (await wholeKernel(out, key)) return artifact(true, 0);
    const started = performance.now();
    const { dir: obj, lock } = await this.#workDir(tree, config);
    try {
      const log = `${obj}/build.log`;
      await Deno.writeTextFile(log, "");
      await Deno.writeTextFile(`${obj}/.config`, config);
      const env = buildEnv(cache);
      for (
        const args of [
          ["-C", tree, `O=${obj}`, "olddefconfig"],
          ["-C", tree, `O=${obj}`, `-j${this.jobs}`, "CC=ccache gcc", "bzImage"],
        ]
      ) {
        const r = await this.runner("make", args, { cwd: tree, env, logFile: log });
        if (r.code !== 0) {
          const text = await Deno.readTextFile(log).catch(() => "");
          const kept = `${cache}/failed/${key}.log`;
          await Deno.mkdir(`${cache}/failed`, { recursive: true });
          await Deno.copyFile(log, kept);
          throw new BuildError(`Building kernel ${release} (${key}) failed`, kept, tail(text));
        }
      }
      const tmp = `${out}.tmp-${crypto.randomUUID().slice(0, 8)}`;
      await Deno.mkdir(tmp, { recursive: true });
      await Deno.copyFile(`${obj}/arch/x86/boot/bzImage`, `${tmp}/bzImage`);
      await Deno.copyFile(`${obj}/.config`, `${tmp}/config`);
      await Deno.copyFile(log, `${tmp}/build.log`);
      const seconds = (performance.now() - started) / 1000;
      const image = await Deno.readFile(`${tmp}/bzImage`);
      const bzImage = { bytes: image.length, sha256: await sha256Hex(image) };
      // Written last: an entry without a meta.json that vouches for its bzImage is not one.
      await writeFileAtomic(
        `${tmp}/meta.json`,
        JSON.stringify({ key, release, tree, workdir: obj, dropped, seconds, bzImage }, null, 2) +
          "\n",
      );
      await Deno.remove(out, { recursive: true }).catch(() => {});
      try {
        await Deno.rename(tmp, out);
      } catch (error) {
        // Another vtcio process finished the same kernel first: keep its copy if it is whole.
        await Deno.remove(tmp, { recursive: true }).catch(() => {});
        if (!(await wholeKernel(out, key))) throw error;
      }
      return artifact(false, seconds);
    } finally {
      lock.close();
    }
  }

  /**
   * The build directory for a config: the directory of the same tree whose last .config is
   * closest, reused in place so kbuild rebuilds only what the difference touches (a copy would
   * not do: objtool's build records absolute paths, and every object depends on objtool); a new
   * one when none is within {@link FAR_CONFIGS} options. Locked while in use.
   */
  async #workDir(tree: string, config: string): Promise<{ dir: string; lock: Deno.FsFile }> {
    const root = `${this.paths.cache}/build`;
    await Deno.mkdir(root, { recursive: true });
    const want = parseConfig(config);
    const candidates: { dir: string; distance: number }[] = [];
    for await (const e of Deno.readDir(root)) {
      const dir = `${root}/${e.name}`;
      const owner = await Deno.readTextFile(`${dir}/.vtcio-tree`).catch(() => "");
      if (owner !== tree) continue;
      const have = parseConfig(await Deno.readTextFile(`${dir}/.config`).catch(() => ""));
      candidates.push({ dir, distance: configDistance(want, have) });
    }
    candidates.sort((a, b) => a.distance - b.distance);
    for (const c of candidates.filter((c) => c.distance <= FAR_CONFIGS)) {
      const lock = await Deno.open(`${c.dir}/.lock`, { create: true, write: true });
      if (await lock.tryLock(true)) return { dir: c.dir, lock };
      lock.close();
    }
    const dir = `${root}/w-${crypto.randomUUID().slice(0, 12)}`;
    await Deno.mkdir(dir, { recursive: true });
    await Deno.writeTextFile(`${dir}/.vtcio-tree`, tree);
    const lock = await Deno.open(`${dir}/.lock`, { create: true, write: true });
    await lock.lock(true);
    return { dir, lock };
  }
}
