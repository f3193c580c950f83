/**
 * Headless Chromium for the dashboard's browser test and benchmark: Debian's `chromium`
 * package, driven by npm:playwright-core (never a downloaded browser). The flags keep it off the
 * network; without them it stalls on a closed one.
 *
 * @module
 */

import type { BrowserContext } from "playwright-core";

/** Where Debian's chromium package puts the browser (override with VTCIO_CHROMIUM). */
export const DEFAULT_CHROMIUM = "/usr/bin/chromium";

/** Chromium flags: headless, no sandbox (root in CI), no GPU, nothing that goes online. */
export const CHROMIUM_ARGS: readonly string[] = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** The Chromium to use, or undefined (with the reason) when there is none. */
export function findChromium(): { path: string } | { missing: string } {
  const path = Deno.env.get("VTCIO_CHROMIUM") || DEFAULT_CHROMIUM;
  try {
    const info = Deno.statSync(path);
    if (!info.isFile) return { missing: `${path} is not a file` };
    if (info.mode !== null && (info.mode & 0o111) === 0) {
      return { missing: `${path} is not executable` };
    }
    return { path };
  } catch {
    return { missing: `${path} not found (apt-get install chromium, or set VTCIO_CHROMIUM)` };
  }
}

/** Options of {@linkcode withChromium}. */
export interface ChromiumOptions {
  /** Browser path (default: {@linkcode findChromium}). */
  path?: string;
  viewport?: { width: number; height: number };
}

/**
 * Starts Chromium with a fresh profile directory, runs `fn` with its browser context, then
 * closes the browser and removes the profile, whatever `fn` does.
 *
 * @throws {Error} when no Chromium is installed
 */
export async function withChromium<T>(
  fn: (context: BrowserContext) => Promise<T>,
  options: ChromiumOptions = {},
): Promise<T> {
  let path = options.path;
  if (path === undefined) {
    const found = findChromium();
    if ("missing" in found) throw new Error(`No Chromium: ${found.missing}`);
    path = found.path;
  }
  const { chromium } = await import("playwright-core");
  const profile = await Deno.makeTempDir({ prefix: "vtcio-chromium-" });
  try {
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: path,
      headless: true,
      args: [...CHROMIUM_ARGS],
      viewport: options.viewport ?? { width: 1280, height: 900 },
      timeout: 60_000,
    });
    try {
      return await fn(context);
    } finally {
      await context.close();
    }
  } finally {
    await Deno.remove(profile, { recursive: true }).catch(() => {});
  }
}
