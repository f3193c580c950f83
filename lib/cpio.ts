/**
 * A writer for the "newc" cpio format the kernel unpacks as an initramfs, and gzip on top.
 * Archives are reproducible: fixed owners, times and inode numbers, entries in the given order.
 */

/** One entry of an archive. */
export type CpioEntry =
  | { type: "dir"; path: string; mode?: number }
  | { type: "file"; path: string; data: Uint8Array; mode?: number }
  | { type: "symlink"; path: string; target: string }
  | { type: "char"; path: string; major: number; minor: number; mode?: number };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;

function hex8(n: number): string {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) {
    throw new RangeError(`Value ${n} does not fit a cpio header field`);
  }
  return n.toString(16).padStart(8, "0");
}

function pad4(n: number): number {
  return (4 - (n % 4)) % 4;
}

/** Builds an uncompressed newc archive, trailer included. */
export function cpioArchive(entries: CpioEntry[]): Uint8Array {
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [];
  let total = 0;
  const push = (b: Uint8Array) => {
    parts.push(b);
    total += b.length;
  };
  const record = (
    ino: number,
    mode: number,
    nlink: number,
    data: Uint8Array,
    name: string,
    rdev: [number, number] = [0, 0],
  ) => {
    const nameBytes = enc.encode(name + "\0");
    const header = "070701" + hex8(ino) + hex8(mode) + hex8(0) + hex8(0) + hex8(nlink) +
      hex8(0) + hex8(data.length) + hex8(0) + hex8(0) + hex8(rdev[0]) + hex8(rdev[1]) +
      hex8(nameBytes.length) + hex8(0);
    push(enc.encode(header));
    push(nameBytes);
    push(new Uint8Array(pad4(110 + nameBytes.length)));
    push(data);
    push(new Uint8Array(pad4(data.length)));
  };
  const seen = new Set<string>();
  entries.forEach((e, i) => {
    const path = e.path.replace(/^\/+/, "");
    if (path === "" || path.split("/").includes("..")) {
      throw new Error(`Bad path in cpio entry: "${e.path}"`);
    }
    if (seen.has(path)) throw new Error(`Duplicate path in cpio archive: "${path}"`);
    seen.add(path);
    const ino = i + 1;
    switch (e.type) {
      case "dir":
        record(ino, S_IFDIR | (e.mode ?? 0o755), 2, new Uint8Array(), path);
        break;
      case "file":
        record(ino, S_IFREG | (e.mode ?? 0o644), 1, e.data, path);
        break;
      case "symlink":
        record(ino, S_IFLNK | 0o777, 1, enc.encode(e.target), path);
        break;
      case "char":
        record(ino, S_IFCHR | (e.mode ?? 0o600), 1, new Uint8Array(), path, [e.major, e.minor]);
        break;
    }
  });
  record(0, 0, 1, new Uint8Array(), "TRAILER!!!");
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Compresses with gzip (the kernel's RD_GZIP). */
export async function gzip(data: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([data as BlobPart]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}
