/**
 * Debian L2 guest images: Debian's own kernel and initramfs, and a root file system where ktcioDD
 * was built out of tree against that kernel's headers, by guest-images/debian/recipe.sh.
 *
 * Two caches, both content-addressed and filled through a temporary directory renamed into place:
 * - the bare debootstrapped tree (the slow part), keyed by the release and the recipe's bootstrap
 *   block (package list and debootstrap call): `cache/debian-base/<release>-<key>/root`;
 * - the finished image, keyed by the release, the recipe and its helper scripts, the ktcioDD
 *   sources, the uapi header and the guest suite: `cache/images/debian-<release>-<key>/`, holding
 *   vmlinuz, initrd.img, rootfs.ext4, manifest.txt and build.log.
 * A driver change so redoes only the module build and the image, from a copy of the bare tree.
 */
import { run, type Runner } from "./proc.ts";
import { sha256Hex, sha256OfFiles } from "./hash.ts";
import { BuildError } from "./kernel_build.ts";

/** The Debian releases a guest can be built from. */
export type DebianRelease = "bookworm" | "trixie";

export const DEBIAN_RELEASES: readonly DebianRelease[] = ["bookworm", "trixie"];

/** The recipe, relative to the checkout. */
export const RECIPE = "guest-images/debian/recipe.sh";

/**
 * Kernel command line (besides console and the cell's own) that boots a Debian image from its
 * root file system attached with {@link debianDriveArgs}: read-only, vtcio-init puts a tmpfs on /tmp.
 */
export const DEBIAN_GUEST_APPEND =
  "root=/dev/vda rootfstype=ext4 ro init=/usr/local/sbin/vtcio-init";

/**
 * QEMU arguments attaching a Debian image's root file system as the guest's /dev/vda: read-only
 * (the cached file is shared by every cell and never written), without image locking (the file is
 * reached over 9p from L1, and cells running at once all read it).
 */
export function debianDriveArgs(rootfs: string): string[] {
  const file = rootfs.replaceAll(",", ",,");
  return ["-drive", `file=${file},if=virtio,format=raw,readonly=on,file.locking=off`];
}

/** How long the recipe may take before its process group is killed. */
export const BOOTSTRAP_TIMEOUT_MS = 45 * 60_000;
export const IMAGE_TIMEOUT_MS = 30 * 60_000;

/** Where the checkout and the cache are. */
export interface DebianImagePaths {
  repo: string;
  cache: string;
}

/** A built Debian guest image. */
export interface DebianImage {
  /** The distro kernel, to boot with `-kernel`. */
  vmlinuz: string;
  /** Its initramfs (gzip, padded so a cpio can be appended), to boot with `-initrd`. */
  initrd: string;
  /** The root file system, to attach read-only as a virtio disk ({@link debianDriveArgs}). */
  rootfs: string;
  /** `uname -r` of the guest kernel, e.g. "6.1.0-41-amd64". */
  kernelRelease: string;
  /** The image's cache key. */
  key: string;
  /** The directory holding all of it, manifest.txt and build.log included. */
  dir: string;
  /** Fields of manifest.txt (`package` lines under `package:<name>`). */
  manifest: Record<string, string>;
  /** True when the image came from the cache. */
  cached: boolean;
}

/** The release of a matrix `guest` value ("debian-trixie" -> "trixie"), or undefined. */
export function debianRelease(guest: string): DebianRelease | undefined {
  const m = /^debian-(.+)$/.exec(guest);
  return DEBIAN_RELEASES.find((r) => r === m?.[1]);
}

const BEGIN = "# vtcio-bootstrap-begin";
const END = "# vtcio-bootstrap-end";

/** The recipe's bootstrap block (package list and debootstrap call), markers included. */
export function bootstrapBlock(recipe: string): string {
  const begin = recipe.indexOf(BEGIN);
  const end = recipe.indexOf(END);
  if (begin < 0 || end < begin) {
    throw new Error(`The Debian recipe has no "${BEGIN}" ... "${END}" block`);
  }
  return recipe.slice(begin, end + END.length);
}

/** Parses manifest.txt: `key=value` lines; `package NAME=VERSION` lines as `package:NAME`. */
export function parseManifest(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const pkg = /^package (\S+?)=(\S+)$/.exec(line);
    if (pkg) {
      out[`package:${pkg[1]}`] = pkg[2];
      continue;
    }
    const kv = /^(\w+)=(.*)$/.exec(line);
    if (kv) out[kv[1]] = kv[2];
  }
  return out;
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory) out.push(...await listFiles(p));
    else if (e.isFile) out.push(p);
  }
  return out.sort();
}

/** The checkout's files an image is built from: what the recipe copies or runs. */
export async function imageInputs(repo: string): Promise<string[]> {
  return [
    ...await listFiles(`${repo}/guest-images/debian`),
    `${repo}/kernel/drivers/misc/tciodd/Makefile`,
    `${repo}/kernel/drivers/misc/tciodd/ktciodd.c`,
    ...await listFiles(`${repo}/kernel/include`),
  ];
}

/** Cache key of the bare tree: the release and the recipe's bootstrap block. */
export async function baseKey(release: DebianRelease, recipe: string): Promise<string> {
  return (await sha256Hex(["vtcio-debian-base-1", release, bootstrapBlock(recipe)].join("\n")))
    .slice(0, 24);
}

/** Cache key of an image: the release, the checkout's inputs and the guest suite binary. */
export async function imageKey(
  release: DebianRelease,
  repo: string,
  guestSuite: string,
): Promise<string> {
  const inputs = await sha256OfFiles(repo, await imageInputs(repo));
  const suite = await sha256Hex(await Deno.readFile(guestSuite));
  return (await sha256Hex(["vtcio-debian-image-1", release, inputs, `suite\0${suite}`].join("\n")))
    .slice(0, 24);
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

async function tail(path: string, chars = 4000): Promise<string> {
  const text = await Deno.readTextFile(path).catch(() => "");
  return text.slice(-chars);
}

/**
 * Moves a finished temporary directory into place. When another build got there first, its
 * result is kept and ours dropped: both came from the same inputs.
 */
async function publish(tmp: string, out: string): Promise<void> {
  try {
    await Deno.rename(tmp, out);
  } catch (e) {
    if (!(await exists(out))) throw e;
    await Deno.remove(tmp, { recursive: true });
  }
}

/** Keeps a failed build's log beside where the result would have gone; returns its path. */
async function keepFailedLog(log: string, out: string): Promise<string> {
  const kept = `${out}.failed.log`;
  await Deno.rename(log, kept).catch(() => {});
  return kept;
}

/** The bare debootstrapped tree of a release (cached); returns the tree's path. */
export async function debianBase(
  release: DebianRelease,
  paths: DebianImagePaths,
  runner: Runner = run,
): Promise<string> {
  const recipe = `${paths.repo}/${RECIPE}`;
  const key = await baseKey(release, await Deno.readTextFile(recipe));
  const out = `${paths.cache}/debian-base/${release}-${key}`;
  if (await exists(`${out}/root/lib/modules`)) return `${out}/root`;
  const tmp = `${out}.tmp-${crypto.randomUUID().slice(0, 8)}`;
  await Deno.mkdir(tmp, { recursive: true });
  const log = `${tmp}/bootstrap.log`;
  const r = await runner("sh", [recipe, "--bootstrap-only", release, `${tmp}/root`], {
    logFile: log,
    timeoutMs: BOOTSTRAP_TIMEOUT_MS,
  });
  if (r.code !== 0 || !(await exists(`${tmp}/root/lib/modules`))) {
    const kept = await keepFailedLog(log, out);
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    const why = r.timedOut ? "timed out" : `failed (exit ${r.code})`;
    throw new BuildError(`debootstrap of Debian ${release} ${why}`, kept, await tail(kept));
  }
  await publish(tmp, out);
  return `${out}/root`;
}

async function readImage(dir: string, key: string, cached: boolean): Promise<DebianImage> {
  const manifest = parseManifest(await Deno.readTextFile(`${dir}/manifest.txt`));
  const kernelRelease = manifest.kernel_release;
  if (!kernelRelease) throw new Error(`${dir}/manifest.txt names no kernel_release`);
  return {
    vmlinuz: `${dir}/vmlinuz`,
    initrd: `${dir}/initrd.img`,
    rootfs: `${dir}/rootfs.ext4`,
    kernelRelease,
    key,
    dir,
    manifest,
    cached,
  };
}

const OUTPUTS = ["vmlinuz", "initrd.img", "rootfs.ext4", "manifest.txt"];

/**
 * A Debian guest image for `release` with ktcioDD built in the guest and `guestSuite` (the static
 * tcio-guest-suite) installed, from the cache or built now (as root). Build failures are thrown
 * as {@link BuildError} carrying the kept log.
 */
export async function debianImage(
  release: DebianRelease,
  paths: DebianImagePaths,
  guestSuite: string,
  runner: Runner = run,
): Promise<DebianImage> {
  if (!DEBIAN_RELEASES.includes(release)) {
    throw new Error(
      `Unknown Debian release "${release}" (expected ${DEBIAN_RELEASES.join(" or ")})`,
    );
  }
  if (!(await exists(guestSuite))) {
    throw new Error(`No guest suite at ${guestSuite}: build kernel/userspace first`);
  }
  const key = await imageKey(release, paths.repo, guestSuite);
  const images = `${paths.cache}/images`;
  const out = `${images}/debian-${release}-${key}`;
  if (await exists(`${out}/manifest.txt`)) return await readImage(out, key, true);

  const base = await debianBase(release, paths, runner);
  const tmp = `${out}.tmp-${crypto.randomUUID().slice(0, 8)}`;
  await Deno.mkdir(tmp, { recursive: true });
  const log = `${tmp}/build.log`;
  const r = await runner("sh", [
    `${paths.repo}/${RECIPE}`,
    release,
    tmp,
    paths.repo,
    "--guest-suite",
    guestSuite,
    "--base",
    base,
  ], { logFile: log, timeoutMs: IMAGE_TIMEOUT_MS });
  const missing: string[] = [];
  for (const f of OUTPUTS) if (!(await exists(`${tmp}/${f}`))) missing.push(f);
  if (r.code !== 0 || missing.length > 0) {
    const kept = await keepFailedLog(log, out);
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    const why = r.timedOut
      ? "timed out"
      : r.code !== 0
      ? `failed (exit ${r.code})`
      : `made no ${missing.join(", ")}`;
    throw new BuildError(`Building the Debian ${release} image ${why}`, kept, await tail(kept));
  }
  await publish(tmp, out);
  return await readImage(out, key, false);
}
