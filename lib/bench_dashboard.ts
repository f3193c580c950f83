/**
 * Benchmarks of the dashboard, for the bench command: a synthetic history (by default a year of
 * nightly runs of 100 cells), the time to build the site from it, and the time Chromium takes to
 * open its index page. The functions return numbers; judging them is the caller's business.
 *
 * @module
 */

import { join } from "node:path";
import { withChromium } from "./browser.ts";
import { buildDashboard, type DashboardOptions } from "./dashboard.ts";
import { RUN_SCHEMA, type RunRecord } from "./results.ts";
import type { CellResult, Outcome, TestResult } from "./types.ts";

/** Options of {@linkcode writeSyntheticHistory}. */
export interface SyntheticOptions {
  /** Runs, one a day (default 365). */
  runs?: number;
  /** Cells per run (default 100). */
  cells?: number;
  /** KTAP tests per cell (default 8). */
  tests?: number;
  /** The latest runs that get log files (default 10; older runs' logs are deleted anyway). */
  logRuns?: number;
  /** Seed of the pseudo-random outcomes (default 1). */
  seed?: number;
}

/** What {@linkcode writeSyntheticHistory} wrote. */
export interface SyntheticHistory {
  root: string;
  runs: number;
  cells: number;
  /** Bytes of all run.json files. */
  runJsonBytes: number;
  logFiles: number;
}

/** A small fast PRNG (mulberry32), so that a seed always gives the same history. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` cell ids in the form the matrix makes them (docs/matrix.md). */
export function syntheticCellIds(count: number): string[] {
  const ids: string[] = [];
  const kernels = ["5.15", "6.1", "6.6", "6.12", "6.13", "6.14"];
  const smp = [[1, 1], [2, 1], [2, 2], [4, 2], [4, 4]];
  const guests = ["busybox", "debian-bookworm"];
  const extras = ["", "-kasan", "-iommu-on", "-kasan-iommu-on"];
  for (const extra of extras) {
    for (const kernel of kernels) {
      for (const td of ["on", "off"]) {
        for (const [l1, l2] of smp) {
          for (const guest of guests) {
            ids.push(`${kernel}-td-${td}-l1smp${l1}-l2smp${l2}-${guest}${extra}`);
            if (ids.length === count) return ids;
          }
        }
      }
    }
  }
  for (let i = ids.length; i < count; i++) ids.push(`6.12-td-on-l1smp1-l2smp1-busybox-n-${i}`);
  return ids;
}

function stamp(day: Date): string {
  return day.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
}

/**
 * Writes a history store of synthetic runs under `root`: realistic run.json files (tests,
 * facts, timings; mostly passes, a few flaky cells, a regression that later gets fixed) and
 * small logs for the latest runs.
 */
export async function writeSyntheticHistory(
  root: string,
  options: SyntheticOptions = {},
): Promise<SyntheticHistory> {
  const runs = options.runs ?? 365;
  const cellCount = options.cells ?? 100;
  const testCount = options.tests ?? 8;
  const logRuns = options.logRuns ?? 10;
  const rand = random(options.seed ?? 1);
  const ids = syntheticCellIds(cellCount);
  const weak = new Set(ids.filter((_, i) => i % 17 === 5));
  const regressed = ids[Math.min(3, ids.length - 1)];
  const bad: Outcome[] = ["fail", "timeout", "crash", "error"];
  let runJsonBytes = 0;
  let logFiles = 0;
  const first = Date.UTC(2025, 10, 25, 2, 0, 0);
  await Deno.mkdir(root, { recursive: true });

  for (let r = 0; r < runs; r++) {
    const day = new Date(first + r * 86_400_000);
    const runId = `${stamp(day)}-${(r & 0xffff).toString(16).padStart(4, "0")}`;
    const dir = join(root, runId);
    const withLogs = r >= runs - logRuns;
    let clock = day.getTime();
    const cells: CellResult[] = ids.map((id, c) => {
      const kernel = id.split("-")[0];
      let outcome: Outcome = "pass";
      let flaky = false;
      const roll = rand();
      if (id === regressed && r >= runs - 20 && r < runs - 5) outcome = "fail";
      else if (weak.has(id) && roll < 0.15) flaky = true;
      else if (roll < 0.01) outcome = bad[Math.floor(rand() * bad.length)];
      else if (id.includes("kasan") && c % 3 === 0) outcome = "xfail";
      const base = 120 + (c % 10) * 30 + (id.includes("kasan") ? 300 : 0);
      const seconds = base * (0.9 + rand() * 0.2) + (flaky ? 180 : 0);
      const started = new Date(clock).toISOString();
      clock += seconds * 1000;
      const tests: TestResult[] = Array.from({ length: testCount }, (_, t) => ({
        name: t === 0 ? "service_found" : `case_${t}`,
        status: outcome === "fail" && t === 1 ? "not ok" : "ok",
        number: t + 1,
        diagnostics: outcome === "fail" && t === 1 ? ["expected 0, got -110 (ETIMEDOUT)"] : [],
        suite: t < 2 ? "host" : "guest",
      }));
      const logs: Record<string, string> = withLogs
        ? {
          "l1-console": `cells/${id}/l1-console.log`,
          "l2-console": `cells/${id}/l2-console.log`,
          "tcservice": `cells/${id}/tcservice.log`,
        }
        : {};
      return {
        id,
        outcome,
        reason: outcome === "pass"
          ? flaky ? "all KTAP tests ok (flaky: timeout, pass)" : "all KTAP tests ok"
          : `synthetic ${outcome}`,
        ...(outcome === "timeout" ? { phase: "l2_boot" as const } : {}),
        ...(outcome === "crash"
          ? {
            phase: "l2_boot" as const,
            crash: ["Kernel BUG (l2 console)\nkernel BUG at mm/slub.c:436!"],
          }
          : {}),
        tests,
        timings: {
          build: seconds * 0.6,
          image: seconds * 0.05,
          l1_boot: seconds * 0.15,
          l2_boot: seconds * 0.1,
          clients: seconds * 0.1,
        },
        logs,
        attempts: flaky ? 2 : 1,
        flaky,
        facts: {
          accel: "kvm",
          l2_cpu: "host",
          l1_kernel: `${kernel}.${r % 30}-vtcio-l1`,
          l2_kernel: `${kernel}.${r % 30}-vtcio-l2`,
          support: id.includes("-td-on-") ? "supported" : "unsupported",
        },
        started,
        finished: new Date(clock).toISOString(),
      };
    });
    const record: RunRecord = {
      schema: RUN_SCHEMA,
      run_id: runId,
      matrix: { file: "matrix/nightly.yaml", name: "nightly", sha256: "5e".repeat(32) },
      status: "complete",
      started: day.toISOString(),
      finished: new Date(clock).toISOString(),
      host: { hostname: "bench", cores: "8", accel: "kvm" },
      versions: {
        deno: Deno.version.deno,
        vtcio: `${r.toString(16).padStart(8, "0")}${"0".repeat(32)}`,
      },
      planned: ids,
      argv: ["run", "matrix/nightly.yaml"],
      cells,
    };
    await Deno.mkdir(join(dir, "cells"), { recursive: true });
    const json = `${JSON.stringify(record, null, 2)}\n`;
    runJsonBytes += json.length;
    await Deno.writeTextFile(join(dir, "run.json"), json);
    if (withLogs) {
      for (const cell of cells) {
        await Deno.mkdir(join(dir, "cells", cell.id), { recursive: true });
        const line = `[    1.000000] ${cell.id} ${cell.outcome} ${"x".repeat(60)}\n`;
        for (const name of ["l1-console", "l2-console", "tcservice"]) {
          await Deno.writeTextFile(join(dir, "cells", cell.id, `${name}.log`), line.repeat(30));
          logFiles++;
        }
      }
    }
  }
  return { root, runs, cells: cellCount, runJsonBytes, logFiles };
}

/** What {@linkcode benchRender} measured. */
export interface RenderBench {
  /** Wall-clock seconds of each build. */
  seconds: number[];
  /** The smallest of them. */
  bestSeconds: number;
  runs: number;
  pages: number;
  logs: number;
  /** Bytes of index.html, and of all HTML pages. */
  indexBytes: number;
  htmlBytes: number;
}

/** Builds the site `repeats` times (default 1) and times each build. */
export async function benchRender(
  historyRoot: string,
  outDir: string,
  options: DashboardOptions & { repeats?: number } = {},
): Promise<RenderBench> {
  const seconds: number[] = [];
  let summary;
  for (let i = 0; i < Math.max(1, options.repeats ?? 1); i++) {
    const t0 = performance.now();
    summary = await buildDashboard(historyRoot, outDir, options);
    seconds.push((performance.now() - t0) / 1000);
  }
  let htmlBytes = 0;
  for (const sub of ["", "runs", "cells"]) {
    for await (const e of Deno.readDir(join(outDir, sub))) {
      if (e.isFile && e.name.endsWith(".html")) {
        htmlBytes += (await Deno.stat(join(outDir, sub, e.name))).size;
      }
    }
  }
  return {
    seconds,
    bestSeconds: Math.min(...seconds),
    runs: summary!.runs,
    pages: summary!.pages,
    logs: summary!.logs,
    indexBytes: (await Deno.stat(join(outDir, "index.html"))).size,
    htmlBytes,
  };
}

/** What {@linkcode benchIndexOpen} measured, in seconds. */
export interface OpenBench {
  /** Starting Chromium (not part of opening the page). */
  launchSeconds: number;
  /** First open of index.html in the fresh browser: goto until the load event. */
  coldSeconds: number;
  /** Later opens, each in a new tab. */
  warmSeconds: number[];
  medianWarmSeconds: number;
  /** The page's own navigation timing of the first open (loadEventEnd). */
  coldLoadEventSeconds: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * Opens `<siteDir>/index.html` from disk in Chromium once cold and `repeats` more times
 * (default 5), timing each until the load event.
 *
 * @throws {Error} when no Chromium is installed (see lib/browser.ts)
 */
export async function benchIndexOpen(siteDir: string, repeats = 5): Promise<OpenBench> {
  const url = `file://${siteDir}/index.html`;
  const t0 = performance.now();
  return await withChromium(async (context) => {
    const launchSeconds = (performance.now() - t0) / 1000;
    const open = async () => {
      const page = await context.newPage();
      const start = performance.now();
      await page.goto(url, { waitUntil: "load" });
      const seconds = (performance.now() - start) / 1000;
      const loadEvent = await page.evaluate(() => {
        const nav = performance.getEntriesByType("navigation")[0] as unknown as {
          loadEventEnd: number;
        };
        return nav.loadEventEnd / 1000;
      });
      await page.close();
      return { seconds, loadEvent };
    };
    const cold = await open();
    const warm: number[] = [];
    for (let i = 0; i < repeats; i++) warm.push((await open()).seconds);
    return {
      launchSeconds,
      coldSeconds: cold.seconds,
      warmSeconds: warm,
      medianWarmSeconds: warm.length > 0 ? median(warm) : cold.seconds,
      coldLoadEventSeconds: cold.loadEvent,
    };
  });
}

/** Options of {@linkcode benchDashboard}. */
export interface DashboardBenchOptions extends SyntheticOptions {
  /** Directory to work in (default: a new temporary one, removed afterwards). */
  workDir?: string;
  /** Also time opening the index in Chromium (default true; skipped without Chromium). */
  browser?: boolean;
  /** Builds to time (default 3). */
  repeats?: number;
}

/** Everything {@linkcode benchDashboard} measured. */
export interface DashboardBench {
  history: SyntheticHistory;
  /** Seconds to write the synthetic history (not part of the dashboard). */
  generateSeconds: number;
  render: RenderBench;
  /** Undefined when not asked for, or when it could not run (see `openSkipped`). */
  open?: OpenBench;
  openSkipped?: string;
}

/** Writes a synthetic history, builds its dashboard and opens its index in Chromium. */
export async function benchDashboard(options: DashboardBenchOptions = {}): Promise<DashboardBench> {
  const work = options.workDir ?? await Deno.makeTempDir({ prefix: "vtcio-bench-dashboard-" });
  try {
    const t0 = performance.now();
    const history = await writeSyntheticHistory(join(work, "results"), options);
    const generateSeconds = (performance.now() - t0) / 1000;
    const site = join(work, "site");
    const render = await benchRender(history.root, site, {
      repeats: options.repeats ?? 3,
      maxRuns: history.runs,
    });
    const out: DashboardBench = { history, generateSeconds, render };
    if (options.browser ?? true) {
      try {
        out.open = await benchIndexOpen(site);
      } catch (error) {
        out.openSkipped = error instanceof Error ? error.message : String(error);
      }
    }
    return out;
  } finally {
    if (options.workDir === undefined) await Deno.remove(work, { recursive: true }).catch(() => {});
  }
}
