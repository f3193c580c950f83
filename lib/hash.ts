/** SHA-256 helpers for cache keys. */

/** Hex SHA-256 of a string or bytes. */
export async function sha256Hex(data: string | Uint8Array): Promise<string> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const digest = await crypto.subtle.digest("SHA-256", bytes as BufferSource);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Hex SHA-256 over files: each file's path relative to `base` and its content hash, in the given
 * order, so that the same files give the same hash wherever the checkout is.
 */
export async function sha256OfFiles(base: string, paths: string[]): Promise<string> {
  const parts: string[] = [];
  for (const p of paths) {
    const rel = p.startsWith(base + "/") ? p.slice(base.length + 1) : p;
    parts.push(`${rel}\0${await sha256Hex(await Deno.readFile(p))}`);
  }
  return await sha256Hex(parts.join("\n"));
}
