/**
 * Guest images: the userspace programs (tcService, clients, launcher) built statically, and the
 * initramfs of L1 and of the busybox L2 guest, each cached by the hash of what goes into it.
 */
import { run, type Runner } from "./proc.ts";
import { sha256Hex, sha256OfFiles } from "./hash.ts";
import { cpioArchive, type CpioEntry, gzip } from "./cpio.ts";
import { BuildError } from "./kernel_build.ts";
import { writeFileAtomic } from "./results.ts";

/** Where the project's files and caches are. */
export interface ImagePaths {
  repo: string;
  cache: string;
  /** The static busybox to put in images. */
  busybox: string;
}

/** The static programs of kernel/userspace. */
export const USERSPACE_PROGRAMS = [
  "tcservice",
  "tcio-host-suite",
  "tcio-guest-suite",
  "tcvm-launch",
  "tcio-other",
  "tcio-hostile",
  "tcio-bench",
] as const;

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory) {
      if (e.name !== "build") out.push(...await listFiles(p));
    } else if (e.isFile) out.push(p);
  }
  return out.sort();
}

async function nonEmpty(path: string): Promise<boolean> {
  return await Deno.stat(path).then((s) => s.isFile && s.size > 0, () => false);
}

/**
 * Whether a userspace cache entry is whole: `.done` (written last) names its key and every
 * program is there and not empty. Anything else is rebuilt.
 */
async function userspaceComplete(out: string, key: string): Promise<boolean> {
  if ((await Deno.readTextFile(`${out}/.done`).catch(() => "")) !== key) return false;
  for (const p of USERSPACE_PROGRAMS) {
    if (!(await nonEmpty(`${out}/${p}`))) return false;
  }
  return true;
}

/** Userspace builds in progress, by output directory: cells started together share one. */
const userspaceBuilds = new Map<string, Promise<string>>();

/** Builds kernel/userspace statically (cached); returns the directory holding the programs. */
export async function buildUserspace(paths: ImagePaths, runner: Runner = run): Promise<string> {
  const src = `${paths.repo}/kernel/userspace`;
  const inputs = [...await listFiles(src), `${paths.repo}/kernel/include/uapi/linux/tciodd.h`];
  const gcc = await runner("gcc", ["--version"]);
  const key = (await sha256Hex(
    (await sha256OfFiles(paths.repo, inputs)) + gcc.stdout.split("\n")[0],
  )).slice(0, 24);
  const out = `${paths.cache}/userspace/${key}`;
  if (await userspaceComplete(out, key)) return out;
  let build = userspaceBuilds.get(out);
  if (!build) {
    build = makeUserspace(src, out, key, runner);
    userspaceBuilds.set(out, build);
    const done = () => userspaceBuilds.delete(out);
    build.then(done, done);
  }
  return await build;
}

async function makeUserspace(
  src: string,
  out: string,
  key: string,
  runner: Runner,
): Promise<string> {
  const tmp = `${out}.tmp-${crypto.randomUUID().slice(0, 8)}`;
  await Deno.mkdir(tmp, { recursive: true });
  const r = await runner("make", ["-C", src, `O=${tmp}`, "-j2"]);
  if (r.code !== 0) {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    throw new BuildError(
      "Building kernel/userspace failed",
      "",
      (r.stdout + r.stderr).slice(-4000),
    );
  }
  for (const p of USERSPACE_PROGRAMS) {
    if (!(await nonEmpty(`${tmp}/${p}`))) {
      await Deno.remove(tmp, { recursive: true }).catch(() => {});
      throw new BuildError(`kernel/userspace did not produce ${p}`, "", r.stdout.slice(-2000));
    }
  }
  await Deno.writeTextFile(`${tmp}/.done`, key);
  await Deno.remove(out, { recursive: true }).catch(() => {});
  try {
    await Deno.rename(tmp, out);
  } catch (error) {
    // Another vtcio process finished the same build first: keep its copy if it is whole.
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    if (!(await userspaceComplete(out, key))) throw error;
  }
  return out;
}

/** A file to put into an image: where it comes from and where it goes. */
export interface ImageFile {
  from: string;
  to: string;
  mode: number;
}

const BASE_DIRS = ["bin", "dev", "proc", "sys", "tmp", "run", "etc", "usr", "usr/bin", "usr/sbin"];

/** Assembles a gzip initramfs from files (cached by their content); returns its path. */
export async function initramfs(
  name: string,
  files: ImageFile[],
  extraDirs: string[],
  paths: ImagePaths,
): Promise<string> {
  const datas = await Promise.all(files.map((f) => Deno.readFile(f.from)));
  const parts = await Promise.all(
    files.map(async (f, i) => `${f.to}\0${f.mode}\0${await sha256Hex(datas[i])}`),
  );
  const key = (await sha256Hex(["vtcio-initramfs-3", name, ...extraDirs, ...parts].join("\n")))
    .slice(0, 24);
  const out = `${paths.cache}/images/${name}-${key}.cpio.gz`;
  if (await wholeImage(out)) return out;
  const dirs = [...new Set([...BASE_DIRS, ...extraDirs])];
  const entries: CpioEntry[] = [
    ...dirs.map((d): CpioEntry => ({ type: "dir", path: d })),
    { type: "char", path: "dev/console", major: 5, minor: 1 },
    // The init scripts start with #!/bin/sh; busybox installs its other links itself.
    { type: "symlink", path: "bin/sh", target: "busybox" },
    ...files.map((f, i): CpioEntry => ({ type: "file", path: f.to, data: datas[i], mode: f.mode })),
  ];
  await Deno.mkdir(`${paths.cache}/images`, { recursive: true });
  // Padded to 512 bytes: L1 appends an uncompressed archive to L2's image, and the kernel only
  // finds an appended archive at a 4-byte boundary (zeros between archives are skipped).
  const gz = await gzip(cpioArchive(entries));
  const padded = new Uint8Array(Math.ceil(gz.length / 512) * 512);
  padded.set(gz);
  await writeFileAtomic(out, padded);
  return out;
}

/**
 * Whether a cached initramfs looks whole: gzip data padded to 512 bytes, as {@link initramfs}
 * writes it. An empty, cut or foreign file is rebuilt rather than booted.
 */
async function wholeImage(path: string): Promise<boolean> {
  try {
    const file = await Deno.open(path);
    try {
      const { size } = await file.stat();
      const head = new Uint8Array(2);
      const n = await file.read(head);
      return size > 0 && size % 512 === 0 && n === 2 && head[0] === 0x1f && head[1] === 0x8b;
    } finally {
      file.close();
    }
  } catch {
    return false;
  }
}

/**
 * The scenario scripts of an init (`guest-images/<image>/scenarios/*.sh`), as files for
 * `/etc/vtcio/scenarios/` in its initramfs, in name order; none if the directory is missing.
 */
export function scenarioFiles(repo: string, image: string): ImageFile[] {
  const dir = `${repo}/guest-images/${image}/scenarios`;
  let names: string[];
  try {
    names = [...Deno.readDirSync(dir)]
      .filter((e) => e.isFile && e.name.endsWith(".sh"))
      .map((e) => e.name)
      .sort();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
  return names.map((n) => ({ from: `${dir}/${n}`, to: `etc/vtcio/scenarios/${n}`, mode: 0o644 }));
}

/**
 * L1's initramfs: busybox, the L1 init and its scenarios, tcService, the host suite, the VM
 * launcher, the hostile-scenario client and the bench timer.
 */
export function l1Initramfs(paths: ImagePaths, userspace: string): Promise<string> {
  return initramfs(
    "l1",
    [
      ...scenarioFiles(paths.repo, "l1"),
      { from: paths.busybox, to: "bin/busybox", mode: 0o755 },
      { from: `${paths.repo}/guest-images/l1/init`, to: "init", mode: 0o755 },
      { from: `${userspace}/tcservice`, to: "usr/sbin/tcservice", mode: 0o755 },
      { from: `${userspace}/tcio-host-suite`, to: "usr/bin/tcio-host-suite", mode: 0o755 },
      { from: `${userspace}/tcio-other`, to: "usr/bin/tcio-other", mode: 0o755 },
      { from: `${userspace}/tcvm-launch`, to: "usr/bin/tcvm-launch", mode: 0o755 },
      { from: `${userspace}/tcio-hostile`, to: "usr/bin/tcio-hostile", mode: 0o755 },
      // The bench scenario's timer; L1 hands it to L2 (make_l2_initrd) when a scenario asks.
      { from: `${userspace}/tcio-bench`, to: "usr/bin/tcio-bench", mode: 0o755 },
    ],
    ["host", "cell", "var", "var/lib", "var/lib/tcservice", "etc/vtcio", "etc/vtcio/scenarios"],
    paths,
  );
}

/**
 * The busybox guest's initramfs: busybox, the L2 init and its scenarios, the guest suite and
 * the hostile-scenario client.
 */
export function busyboxGuestInitramfs(paths: ImagePaths, userspace: string): Promise<string> {
  return initramfs(
    "l2-busybox",
    [
      ...scenarioFiles(paths.repo, "busybox"),
      { from: paths.busybox, to: "bin/busybox", mode: 0o755 },
      { from: `${paths.repo}/guest-images/busybox/init`, to: "init", mode: 0o755 },
      { from: `${userspace}/tcio-guest-suite`, to: "usr/bin/tcio-guest-suite", mode: 0o755 },
      { from: `${userspace}/tcio-hostile`, to: "usr/bin/tcio-hostile", mode: 0o755 },
    ],
    ["vtcio", "etc/vtcio", "etc/vtcio/scenarios"],
    paths,
  );
}
