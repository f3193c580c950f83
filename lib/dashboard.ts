/**
 * The published dashboard: a static site built from a history store (see lib/history.ts) that
 * works opened from disk (file://) and from any static host. No external script, style or font;
 * plots are inline SVG; data a page needs is embedded in it.
 *
 * ```
 * <out>/index.html                  latest run: changes first, grid, facts, plots, recent runs
 * <out>/runs/<run-id>.html          the same for each of the latest runs (no plots)
 * <out>/cells/<cell>.html           one page per cell: result, tests, crash, logs, history
 * <out>/logs/<run-id>/<cell>/*.txt  the logs of the latest runs, big ones cut in the middle
 * ```
 *
 * Layout and limits: docs/history.md.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { dirname, isAbsolute, join } from "node:path";
import { isUnexpected } from "./classify.ts";
import {
  type CellChange,
  cellDuration,
  cellPlace,
  CHANGE_ORDER,
  type ChangeKind,
  FLAKY,
  flipCount,
  gridOf,
  HistoryIndex,
  isGood,
  outcomeLook,
  passRate,
  runCellIds,
  runFacts,
  runSeconds,
  type Shown,
} from "./dashboard_model.ts";
import { type HistoryRun, loadHistory } from "./history.ts";
import { href, type HtmlValue, jsonScript, markup, raw, type SafeHtml } from "./html.ts";
import { countOutcomes, formatCounts, formatDuration } from "./summary.ts";
import { linePlot, type PlotPoint } from "./svg_plot.ts";
import type { CellResult, TestResult } from "./types.ts";

/** Options of {@linkcode buildDashboard}. */
export interface DashboardOptions {
  /** Runs read from the history, the latest ones (default 365). Plots cover all of them. */
  maxRuns?: number;
  /** Runs, the latest ones, that get a run page (default 30). */
  runPages?: number;
  /** Runs, the latest ones, whose logs are copied into the site (default 5). */
  logRuns?: number;
  /** Logs above this many bytes are cut in the middle (default 256 KiB). */
  maxLogBytes?: number;
  /** Symbols in a cell page's history row (default 60). */
  stripRuns?: number;
  /** Rows in a cell page's history table (default 20). */
  tableRuns?: number;
  /** Title of the site (default "vtcio results"). */
  title?: string;
  /** Time shown as "built at" and used for running runs' durations (default: now). */
  now?: Date;
}

/** What {@linkcode buildDashboard} wrote. */
export interface DashboardSummary {
  outDir: string;
  /** Runs read from the history. */
  runs: number;
  /** Cell pages written. */
  cells: number;
  /** HTML pages written, index included. */
  pages: number;
  /** Log files copied. */
  logs: number;
  /** Runs skipped or combined by loadHistory, logs that could not be copied. */
  warnings: string[];
}

/** A file in a site directory that marks it as made by vtcio (a site may be replaced). */
export const SITE_MARKER = ".vtcio-dashboard";

const DEFAULTS = {
  maxRuns: 365,
  runPages: 30,
  logRuns: 5,
  maxLogBytes: 256 * 1024,
  stripRuns: 60,
  tableRuns: 20,
};

/** The file name (without extension) a cell id gets in the site: the id if safe, else a slug. */
export function pageName(id: string): string {
  if (/^[A-Za-z0-9_][A-Za-z0-9._-]{0,150}$/.test(id)) return id;
  const slug = id.replace(/[^A-Za-z0-9._-]/g, "_").replace(/^\.+/, "_").slice(0, 100);
  return `${slug}-${createHash("sha256").update(id).digest("hex").slice(0, 8)}`;
}

function logFileName(name: string): string {
  return `${name.replace(/[^A-Za-z0-9._-]/g, "_").replace(/^\.+/, "_") || "log"}.txt`;
}

/** A log of a cell in a run, as linked from the site. */
interface LogLink {
  name: string;
  /** Path relative to the site root, or undefined when the log could not be copied. */
  path?: string;
  bytes: number;
  cut: boolean;
}

/**
 * Builds the site in `outDir` from the runs under `historyRoot`. The site is assembled next to
 * `outDir` and then put in its place, so a reader sees the old or the new site. An existing
 * `outDir` is replaced only if it is empty or a site made by this function.
 *
 * @throws {Error} if `outDir` is a non-empty directory that is not a vtcio site
 */
export async function buildDashboard(
  historyRoot: string,
  outDir: string,
  options: DashboardOptions = {},
): Promise<DashboardSummary> {
  const opts = { ...DEFAULTS, ...definedOnly(options) };
  const now = options.now ?? new Date();
  const title = options.title ?? "vtcio results";
  await checkReplaceable(outDir);

  const history = await loadHistory(historyRoot, { limit: opts.maxRuns });
  const warnings = [...history.warnings];
  const runs = history.runs;
  const index = new HistoryIndex(runs.map((r) => r.record));

  const parent = dirname(outDir);
  await Deno.mkdir(parent, { recursive: true });
  const temp = await Deno.makeTempDir({ dir: parent, prefix: ".site-" });
  try {
    await Deno.writeTextFile(join(temp, SITE_MARKER), "Made by vtcio's buildDashboard\n");
    const logs = await copyLogs(runs, temp, opts.logRuns, opts.maxLogBytes, warnings);
    const withPage = new Set(runs.slice(-opts.runPages).map((r) => r.id));
    const ctx: Ctx = { index, changes: new Map(), runs, logs, withPage, opts, title, now };

    let pages = 0;
    await Deno.mkdir(join(temp, "runs"));
    await Deno.mkdir(join(temp, "cells"));
    const writes: Promise<void>[] = [];
    if (runs.length === 0) {
      writes.push(Deno.writeTextFile(join(temp, "index.html"), emptyIndex(title, historyRoot)));
      pages++;
    } else {
      writes.push(Deno.writeTextFile(join(temp, "index.html"), runPage(ctx, runs.length - 1, 0)));
      pages++;
      for (let i = 0; i < runs.length; i++) {
        if (!withPage.has(runs[i].id)) continue;
        writes.push(
          Deno.writeTextFile(join(temp, "runs", `${runs[i].id}.html`), runPage(ctx, i, 1)),
        );
        pages++;
      }
    }
    const cellIds = index.allCellIds();
    for (const id of cellIds) {
      writes.push(
        Deno.writeTextFile(join(temp, "cells", `${pageName(id)}.html`), cellPage(ctx, id)),
      );
      pages++;
    }
    await Promise.all(writes);
    await swapInto(temp, outDir);
    return {
      outDir,
      runs: runs.length,
      cells: cellIds.length,
      pages,
      logs: [...logs.values()].flat().filter((l) => l.path !== undefined).length,
      warnings,
    };
  } catch (error) {
    await Deno.remove(temp, { recursive: true }).catch(() => {});
    throw error;
  }
}

function definedOnly(options: DashboardOptions): Partial<typeof DEFAULTS> {
  const out: Partial<typeof DEFAULTS> = {};
  for (const key of Object.keys(DEFAULTS) as Array<keyof typeof DEFAULTS>) {
    const value = options[key];
    if (value !== undefined) {
      if (!Number.isInteger(value) || value < 0) {
        throw new Error(`Dashboard option ${key} must be a whole number, not ${value}`);
      }
      out[key] = value;
    }
  }
  return out;
}

async function checkReplaceable(outDir: string): Promise<void> {
  let entries: string[];
  try {
    entries = [];
    for await (const entry of Deno.readDir(outDir)) entries.push(entry.name);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return;
    if (error instanceof Deno.errors.NotADirectory) {
      throw new Error(`${outDir} is a file, not a directory for the dashboard`);
    }
    throw error;
  }
  if (entries.length > 0 && !entries.includes(SITE_MARKER)) {
    throw new Error(
      `${outDir} is not empty and was not made by vtcio dashboard: choose another --out`,
    );
  }
}

async function swapInto(temp: string, outDir: string): Promise<void> {
  let old: string | undefined;
  try {
    await Deno.lstat(outDir);
    old = `${temp}.old`;
    await Deno.rename(outDir, old);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  await Deno.rename(temp, outDir);
  if (old !== undefined) await Deno.remove(old, { recursive: true });
}

// ---------------------------------------------------------------------------------------------
// Logs

function logKey(runId: string, cellId: string): string {
  return `${runId}\n${cellId}`;
}

async function copyLogs(
  runs: HistoryRun[],
  site: string,
  logRuns: number,
  maxBytes: number,
  warnings: string[],
): Promise<Map<string, LogLink[]>> {
  const links = new Map<string, LogLink[]>();
  const jobs: Array<() => Promise<void>> = [];
  for (const run of logRuns > 0 ? runs.slice(-logRuns) : []) {
    for (const cell of run.record.cells) {
      const list: LogLink[] = [];
      links.set(logKey(run.id, cell.id), list);
      const base = run.cellRunDirs[cell.id] ?? run.dir;
      const used = new Set<string>();
      for (const [name, rel] of Object.entries(cell.logs ?? {})) {
        if (typeof rel !== "string") continue;
        let file = logFileName(name);
        while (used.has(file)) file = `_${file}`;
        used.add(file);
        const source = isAbsolute(rel) ? rel : join(base, rel);
        const target = ["logs", run.id, pageName(cell.id), file];
        const link: LogLink = { name, bytes: 0, cut: false };
        list.push(link);
        jobs.push(async () => {
          try {
            const { bytes, cut } = await copyCapped(source, join(site, ...target), maxBytes);
            link.path = target.join("/");
            link.bytes = bytes;
            link.cut = cut;
          } catch (error) {
            const why = error instanceof Deno.errors.NotFound ? "missing" : String(error);
            warnings.push(`Log ${name} of ${cell.id} in run ${run.id} not copied: ${why}`);
          }
        });
      }
    }
  }
  await pool(jobs, 16);
  return links;
}

async function pool(jobs: Array<() => Promise<void>>, width: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) await jobs[next++]();
  };
  await Promise.all(Array.from({ length: Math.min(width, jobs.length) }, worker));
}

/**
 * Copies a file; one bigger than `maxBytes` keeps its first eighth and its end, with a line
 * saying how much was cut between them.
 */
export async function copyCapped(
  source: string,
  target: string,
  maxBytes: number,
): Promise<{ bytes: number; cut: boolean }> {
  const info = await Deno.stat(source);
  if (!info.isFile) throw new Error(`${source} is not a file`);
  await Deno.mkdir(dirname(target), { recursive: true });
  if (info.size <= maxBytes) {
    await Deno.copyFile(source, target);
    return { bytes: info.size, cut: false };
  }
  const headBytes = Math.floor(maxBytes / 8);
  const tailBytes = maxBytes - headBytes;
  const file = await Deno.open(source, { read: true });
  try {
    const head = await readAt(file, 0, headBytes);
    const tail = await readAt(file, info.size - tailBytes, tailBytes);
    const note = new TextEncoder().encode(
      `\n\n[... vtcio dashboard: ${
        info.size - headBytes - tailBytes
      } bytes cut here; the full log is in the run directory ...]\n\n`,
    );
    const out = new Uint8Array(head.length + note.length + tail.length);
    out.set(head, 0);
    out.set(note, head.length);
    out.set(tail, head.length + note.length);
    await Deno.writeFile(target, out);
    return { bytes: info.size, cut: true };
  } finally {
    file.close();
  }
}

async function readAt(file: Deno.FsFile, offset: number, length: number): Promise<Uint8Array> {
  await file.seek(offset, Deno.SeekMode.Start);
  const buffer = new Uint8Array(length);
  let filled = 0;
  while (filled < length) {
    const n = await file.read(buffer.subarray(filled));
    if (n === null) break;
    filled += n;
  }
  return buffer.subarray(0, filled);
}

// ---------------------------------------------------------------------------------------------
// Pages

interface Ctx {
  index: HistoryIndex;
  /** Changes by run position, computed once. */
  changes: Map<number, CellChange[]>;
  runs: HistoryRun[];
  logs: Map<string, LogLink[]>;
  withPage: Set<string>;
  opts: typeof DEFAULTS;
  title: string;
  now: Date;
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:1em 2em;color:#1d1d1f;background:#fff}
a{color:#0b57d0}h1{font-size:1.5em;margin:.2em 0}h2{font-size:1.2em;margin:1.2em 0 .4em}
table{border-collapse:collapse;margin:.4em 0}th,td{border:1px solid #ccc;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#f5f5f7}.grid td{white-space:nowrap}.grid td a{text-decoration:none;color:inherit}
.o-pass,.o-xfail{background:#e0f4e0}.o-skip,.o-not-run,.o-none{background:#f2f2f2;color:#555}
.o-fail,.o-xpass,.o-error,.o-build-error,.o-timeout,.o-crash{background:#fcdede}
.flag{display:inline-block;font-size:85%;margin-left:.4em;padding:0 .35em;border:1px solid #888;border-radius:3px;background:#fff;color:#222}
.changes li{margin:.15em 0}.muted{color:#666}.facts{display:grid;grid-template-columns:max-content auto;gap:.1em 1.2em;margin:.5em 0}
.facts dt{font-weight:600}.facts dd{margin:0;overflow-wrap:anywhere}
.strip{font-size:16px;line-height:1.8}.strip a,.strip span{display:inline-block;min-width:1.3em;text-align:center;text-decoration:none;border-radius:3px;margin:0 1px}
pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#f7f7f7;border:1px solid #ddd;padding:.5em;max-height:40em;overflow:auto}
.plot{color:#0b57d0;max-width:100%;height:auto}.plots{display:flex;flex-wrap:wrap;gap:1em}figure{margin:0}
.big{font-size:1.4em;padding:.1em .4em;border-radius:4px}nav{margin-bottom:.6em}
body.problems-only tr.ok-row{display:none}
`;

function document(title: string, body: HtmlValue): string {
  const head =
    markup`<meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${title}</title><style>${
      raw(CSS)
    }</style>`;
  return `<!DOCTYPE html>\n${
    markup`<html lang="en"><head>${head}</head><body>${body}</body></html>`.value
  }\n`;
}

function layout(ctx: Ctx, pageTitle: string, depth: number, body: HtmlValue): string {
  const up = "../".repeat(depth);
  const built = ctx.now.toISOString().replace(/\.\d+Z$/, "Z");
  const nav = markup`<nav><a href="${up}index.html">${ctx.title}</a> · built ${built}</nav>`;
  return document(pageTitle, [nav, body]);
}

function emptyIndex(title: string, root: string): string {
  return document(title, markup`<h1>${title}</h1><p>No runs yet in ${root}.</p>`);
}

function outcomeBadge(outcome: Shown, cls = ""): SafeHtml {
  const look = outcomeLook(outcome);
  return markup`<span class="${`${look.cls} ${cls}`.trim()}">${look.symbol} ${look.text}</span>`;
}

function flakyFlag(result: CellResult | undefined): SafeHtml | "" {
  return result?.flaky ? markup`<span class="flag">${FLAKY.symbol} ${FLAKY.text}</span>` : "";
}

const CHANGE_TITLES: Record<ChangeKind, string> = {
  "regression": "Regressions",
  "new-failure": "New failures",
  "fix": "Fixes",
  "still-failing": "Still failing",
};

const CHANGE_FLAGS: Record<ChangeKind, string> = {
  "regression": "▼ regression",
  "new-failure": "★ new failure",
  "fix": "▲ fixed",
  "still-failing": "",
};

function changeFlag(kind: ChangeKind | undefined): SafeHtml | "" {
  if (kind === undefined || CHANGE_FLAGS[kind] === "") return "";
  return markup`<span class="flag">${CHANGE_FLAGS[kind]}</span>`;
}

function cellHref(depth: number, id: string): string {
  return `${"../".repeat(depth)}cells/${href(`${pageName(id)}.html`)}`;
}

function runHref(ctx: Ctx, depth: number, runId: string): string | undefined {
  if (!ctx.withPage.has(runId)) return undefined;
  return `${"../".repeat(depth)}runs/${href(`${runId}.html`)}`;
}

function runLink(ctx: Ctx, depth: number, runId: string, anchor = ""): SafeHtml {
  const target = runHref(ctx, depth, runId);
  return target === undefined
    ? markup`${runId}`
    : markup`<a href="${target + anchor}">${runId}</a>`;
}

function changesOf(ctx: Ctx, i: number): CellChange[] {
  let changes = ctx.changes.get(i);
  if (changes === undefined) {
    changes = ctx.index.changes(i);
    ctx.changes.set(i, changes);
  }
  return changes;
}

function percent(v: number): string {
  return `${Math.round(v * 1000) / 10}%`;
}

function kib(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : `${(bytes / 1024).toFixed(bytes < 10240 ? 1 : 0)} KiB`;
}

// ---------------------------------------------------------------------------------------------
// Run pages (the index is the latest run's page, with trends and recent runs added)

function runPage(ctx: Ctx, i: number, depth: number): string {
  const run = ctx.runs[i];
  const record = run.record;
  const changes = changesOf(ctx, i);
  const isIndex = depth === 0;
  const heading = isIndex ? `${ctx.title}: run ${run.id}` : `Run ${run.id}`;
  const latest = isIndex ? "" : markup` <a href="../index.html">Latest run</a>`;
  const counts = formatCounts(countOutcomes(record.cells));
  const facts = runFacts(record, ctx.now).map(([k, v]) => markup`<dt>${k}</dt><dd>${v}</dd>`);
  const filter = isIndex
    ? markup`<p><label><input type="checkbox" id="problems-only"> Only rows with a cell that is not ✔ pass</label></p><script>${
      raw(FILTER_SCRIPT)
    }</script>`
    : "";
  const body = [
    markup`<h1>${heading}</h1><p class="muted">Matrix ${record.matrix.name}, ${counts}; status ${record.status}.${latest}</p>`,
    markup`<section id="changes-all"><h2>Changes</h2>${
      changesBody(ctx, i, depth, changes)
    }</section>`,
    flakySection(record.cells, depth),
    markup`<section id="grid-section"><h2>Cells</h2>${
      grid(ctx, i, depth, changes)
    }${filter}</section>`,
    markup`<section id="facts"><h2>Run facts</h2><dl class="facts">${facts}</dl></section>`,
    isIndex ? indexExtras(ctx) : "",
    isIndex ? jsonScript("vtcio-data", indexData(ctx, changes)) : "",
  ];
  return layout(ctx, heading, depth, body);
}

const FILTER_SCRIPT = `(function(){var b=document.getElementById("problems-only");if(!b)return;` +
  `b.addEventListener("change",function(){document.body.classList.toggle("problems-only",b.checked)})})();`;

function changesBody(ctx: Ctx, i: number, depth: number, changes: CellChange[]): SafeHtml {
  const previous = i > 0 ? ctx.runs[i - 1].id : undefined;
  const fresh = previous === undefined ? 0 : ctx.index.newCells(i).length;
  const firstTime = fresh === 0
    ? ""
    : `; ${fresh} cell${fresh === 1 ? "" : "s"} ran for the first time`;
  if (changes.length === 0) {
    const since = previous === undefined
      ? ""
      : markup`${firstTime}, nothing changed ${fresh === 0 ? "" : "for the others "}since run ${
        runLink(ctx, depth, previous)
      }`;
    return markup`<p>Nothing failing${since}.</p>`;
  }
  const intro = previous === undefined
    ? markup`<p>First run in the history.</p>`
    : markup`<p>Against each cell's previous result (run ${
      runLink(ctx, depth, previous)
    } for most)${firstTime}.</p>`;
  const sections = CHANGE_ORDER.map((kind) => {
    const list = changes.filter((c) => c.kind === kind);
    if (list.length === 0) return "";
    const items = list.map((c) => changeItem(ctx, depth, c));
    return markup`<section class="changes" id="${kind}"><h3>${
      CHANGE_TITLES[kind]
    } (${list.length})</h3><ul>${items}</ul></section>`;
  });
  return markup`${intro}${sections}`;
}

function changeItem(ctx: Ctx, depth: number, change: CellChange): SafeHtml {
  const before = change.before === undefined
    ? ""
    : markup` (was ${outcomeBadge(change.before.outcome)} in run ${
      runLink(ctx, depth, change.before.run_id, `#c-${change.id}`)
    })`;
  const link = markup`<a href="${cellHref(depth, change.id)}">${change.id}</a>`;
  const flaky = change.result.flaky ? markup` ${flakyFlag(change.result)}` : "";
  return markup`<li data-change="${change.kind}" data-cell="${change.id}">${link} ${
    outcomeBadge(change.result.outcome)
  }${flaky}${before}: ${change.result.reason}</li>`;
}

function flakySection(cells: CellResult[], depth: number): SafeHtml | "" {
  const flaky = cells.filter((c) => c.flaky);
  if (flaky.length === 0) return "";
  const items = flaky.map((c) =>
    markup`<li><a href="${cellHref(depth, c.id)}">${c.id}</a> ${outcomeBadge(c.outcome)} ${
      flakyFlag(c)
    } after ${c.attempts} attempts: ${c.reason}</li>`
  );
  return markup`<section id="flaky"><h2>${FLAKY.symbol} Flaky (${flaky.length})</h2><ul>${items}</ul></section>`;
}

function grid(ctx: Ctx, i: number, depth: number, changes: CellChange[]): SafeHtml {
  const layoutGrid = gridOf(runCellIds(ctx.runs[i].record), (id) => ctx.index.axes(id));
  const kinds = new Map(changes.map((c) => [c.id, c.kind]));
  const rows = layoutGrid.rows.map((row) => {
    let ok = true;
    const tds = layoutGrid.columns.map((column) => {
      const id = layoutGrid.at.get(`${row}\n${column}`);
      if (id === undefined) {
        return markup`<td class="o-none"><span class="muted">— no cell</span></td>`;
      }
      const result = ctx.index.result(i, id);
      const outcome: Shown = result?.outcome ?? "not-run";
      const look = outcomeLook(outcome);
      if (outcome !== "pass" || result?.flaky) ok = false;
      const tip = result === undefined ? `${id}: planned, no result` : `${id}: ${result.reason}`;
      const flakyAttr = raw(result?.flaky ? ' data-flaky="true"' : "");
      const link = markup`<a href="${
        cellHref(depth, id)
      }" title="${tip}">${look.symbol} ${look.text}</a>`;
      return markup`<td class="${look.cls}" id="c-${id}" data-cell="${id}" data-outcome="${outcome}"${flakyAttr}>${link}${
        changeFlag(kinds.get(id))
      }${flakyFlag(result)}</td>`;
    });
    return markup`<tr class="${
      ok ? "ok-row" : "problem-row"
    }"><th scope="row">${row}</th>${tds}</tr>`;
  });
  const head = layoutGrid.columns.map((c) => markup`<th scope="col">${c}</th>`);
  return markup`<table class="grid"><thead><tr><th scope="col">kernel · TESTDEVICE</th>${head}</tr></thead><tbody>${rows}</tbody></table>`;
}

function indexExtras(ctx: Ctx): SafeHtml {
  const rates: PlotPoint[] = ctx.runs.map((r) => {
    const target = runHref(ctx, 0, r.id);
    return {
      label: r.id,
      y: passRate(r.record),
      ...(target === undefined ? {} : { href: target }),
    };
  });
  const durations: PlotPoint[] = ctx.runs.map((r) => {
    const s = runSeconds(r.record);
    return { label: r.id, y: s === null ? null : s / 60 };
  });
  const ratePlot = linePlot(rates, {
    title: "Pass rate per run (pass and xfail among cells not skipped)",
    yMin: 0,
    yMax: 1,
    format: percent,
  });
  const durationPlot = linePlot(durations, {
    title: "Run duration in minutes",
    format: (m) => `${m.toFixed(1)} min`,
  });
  const recent = ctx.runs.slice(-ctx.opts.runPages).map((r, k, list) => {
    const changes = changesOf(ctx, ctx.runs.length - list.length + k);
    const regressions = changes.filter((c) => c.kind === "regression").length;
    const fixes = changes.filter((c) => c.kind === "fix").length;
    const rate = passRate(r.record);
    const seconds = runSeconds(r.record);
    const cells = [
      runLink(ctx, 0, r.id),
      r.record.status,
      formatCounts(countOutcomes(r.record.cells)),
      rate === null ? "—" : percent(rate),
      regressions > 0 ? `▼ ${regressions}` : "0",
      fixes > 0 ? `▲ ${fixes}` : "0",
      seconds === null ? "—" : formatDuration(seconds),
    ];
    return markup`<tr>${cells.map((c) => markup`<td>${c}</td>`)}</tr>`;
  }).reverse();
  const headings = ["run", "status", "cells", "pass rate", "regressions", "fixes", "duration"]
    .map((h) => markup`<th>${h}</th>`);
  return markup`<section id="trends"><h2>Trends over the last ${ctx.runs.length} run(s)</h2><div class="plots"><figure>${ratePlot}<figcaption>Pass rate per run</figcaption></figure><figure>${durationPlot}<figcaption>Run duration (minutes)</figcaption></figure></div></section><section id="runs"><h2>Recent runs</h2><table><thead><tr>${headings}</tr></thead><tbody>${recent}</tbody></table></section>`;
}

function indexData(ctx: Ctx, changes: CellChange[]): unknown {
  const last = ctx.runs.length - 1;
  const latest = ctx.runs[last];
  return {
    schema: "vtcio-dashboard/1",
    run_id: latest.id,
    status: latest.record.status,
    cells: runCellIds(latest.record).map((id) => {
      const r = ctx.index.result(last, id);
      return {
        id,
        outcome: r?.outcome ?? "not-run",
        flaky: r?.flaky ?? false,
        page: cellHref(0, id),
      };
    }),
    changes: changes.map((c) => ({
      id: c.id,
      kind: c.kind,
      outcome: c.result.outcome,
      before: c.before ?? null,
    })),
    runs: ctx.runs.map((r) => ({ id: r.id, pass_rate: passRate(r.record) })),
  };
}

// ---------------------------------------------------------------------------------------------
// Cell pages

function logLinks(ctx: Ctx, depth: number, runId: string, cellId: string): SafeHtml | undefined {
  const list = ctx.logs.get(logKey(runId, cellId));
  if (list === undefined) return undefined;
  if (list.length === 0) return markup`<span class="muted">no logs</span>`;
  const links = list.map((l, k) => {
    const sep = k === 0 ? "" : " · ";
    if (l.path === undefined) return markup`${sep}<span class="muted">${l.name} (missing)</span>`;
    const size = l.cut ? ` (${kib(l.bytes)}, cut)` : ` (${kib(l.bytes)})`;
    const target = `${"../".repeat(depth)}${l.path.split("/").map(encodeURIComponent).join("/")}`;
    return markup`${sep}<a href="${target}" data-log="${l.name}">${l.name}</a><span class="muted">${size}</span>`;
  });
  return markup`${links}`;
}

const TEST_LOOK: Record<TestResult["status"], string> = {
  "ok": "✔ ok",
  "not ok": "✘ not ok",
  "skip": "○ skip",
  "todo": "◌ todo",
};

function cellPage(ctx: Ctx, id: string): string {
  const depth = 1;
  const last = ctx.runs.length - 1;
  const track = ctx.index.track(id);
  let latestIndex = -1;
  for (let k = last; k >= 0; k--) {
    if (track[k] !== undefined) {
      latestIndex = k;
      break;
    }
  }
  const result = latestIndex >= 0 ? track[latestIndex] : undefined;
  const inLatest = runCellIds(ctx.runs[last].record).includes(id);
  const place = cellPlace(id, ctx.index.axes(id));
  const elsewhere = inLatest ? "" : " · not in the latest run";
  const body = [
    markup`<h1>${id}</h1><p class="muted">${place.row} · ${place.column}${elsewhere}</p>`,
    result === undefined
      ? markup`<p>${
        outcomeBadge("not-run", "big")
      } No result in the last ${ctx.runs.length} run(s).</p>`
      : latestResult(ctx, id, latestIndex, result),
    historySection(ctx, id, track),
    result === undefined ? "" : cellFacts(result),
  ];
  return layout(ctx, `${id} · ${ctx.title}`, depth, body);
}

function latestResult(ctx: Ctx, id: string, index: number, result: CellResult): SafeHtml {
  const depth = 1;
  const runId = ctx.runs[index].id;
  const last = ctx.runs.length - 1;
  const change = index === last ? changesOf(ctx, last).find((c) => c.id === id) : undefined;
  const old = index === last ? "" : markup` <span class="muted">(not in the latest run)</span>`;
  const flags = markup`${result.flaky ? markup` ${flakyFlag(result)}` : ""}${
    change === undefined ? "" : markup` ${changeFlag(change.kind)}`
  }`;
  const timings = Object.entries(result.timings).map(([p, s]) => `${p} ${formatDuration(s ?? 0)}`);
  const facts: Array<[string, HtmlValue]> = [
    ["Reason", result.reason],
    ["Phase", result.phase],
    ["Attempts", String(result.attempts)],
    [
      "Duration",
      formatDuration(cellDuration(result) ?? 0) +
      (timings.length > 0 ? ` (${timings.join(", ")})` : ""),
    ],
    [
      "Before",
      change?.before === undefined
        ? undefined
        : markup`${outcomeBadge(change.before.outcome)} in run ${
          runLink(ctx, depth, change.before.run_id, `#c-${id}`)
        }`,
    ],
    ["Started", result.started],
  ];
  const dl = facts.filter(([, v]) => v !== undefined && v !== "")
    .map(([k, v]) => markup`<dt>${k}</dt><dd>${v}</dd>`);
  const logs = logLinks(ctx, depth, runId, id) ??
    markup`<span class="muted">Logs are kept for the last ${ctx.opts.logRuns} run(s) only.</span>`;
  const crash = result.crash !== undefined && result.crash.length > 0
    ? markup`<section id="crash"><h2>💥 Crash reports (${result.crash.length})</h2>${
      result.crash.map((c) => markup`<pre class="crash">${c}</pre>`)
    }</section>`
    : "";
  return markup`<p>${outcomeBadge(result.outcome, "big")}${flags} in run ${
    runLink(ctx, depth, runId, `#c-${id}`)
  }${old}</p><dl class="facts">${dl}</dl>${crash}${
    testsSection(result)
  }<section id="logs"><h2>Logs</h2><p>${logs}</p></section>`;
}

function cellFacts(result: CellResult): SafeHtml | "" {
  const entries = Object.entries(result.facts);
  if (entries.length === 0) return "";
  const dl = entries.map(([k, v]) => markup`<dt>${k}</dt><dd>${v}</dd>`);
  return markup`<section id="cell-facts"><h2>Facts</h2><dl class="facts">${dl}</dl></section>`;
}

function testsSection(result: CellResult): SafeHtml {
  if (result.tests.length === 0) {
    return markup`<section id="tests"><h2>Tests</h2><p class="muted">No KTAP results.</p></section>`;
  }
  const failed = result.tests.filter((t) => t.status === "not ok").length;
  const rows = result.tests.map((t) => {
    const text = t.diagnostics.join("\n");
    const diag = t.diagnostics.length === 0
      ? ""
      : t.diagnostics.length <= 3
      ? markup`<pre>${text}</pre>`
      : markup`<details><summary>${t.diagnostics.length} lines</summary><pre>${text}</pre></details>`;
    const cls = t.status === "ok" ? "o-pass" : t.status === "not ok" ? "o-fail" : "o-skip";
    return markup`<tr><td class="${cls}">${
      TEST_LOOK[t.status] ?? t.status
    }</td><td>${t.suite}</td><td>${t.number}</td><td>${t.name}</td><td>${
      t.directive ?? ""
    }${diag}</td></tr>`;
  });
  const head = ["status", "suite", "#", "name", "directive, diagnostics"].map((h) =>
    markup`<th>${h}</th>`
  );
  return markup`<section id="tests"><h2>Tests (${result.tests.length}, ${failed} not ok)</h2><table><thead><tr>${head}</tr></thead><tbody>${rows}</tbody></table></section>`;
}

const LEGEND = "Oldest left, latest right: ✔ pass, ⊖ xfail, ○ skip, ✘ fail, ❗ xpass, ⛔ error, " +
  `🔨 build-error, ⏱ timeout, 💥 crash, · not run, ${FLAKY.symbol} flaky.`;

function historySection(ctx: Ctx, id: string, track: Array<CellResult | undefined>): SafeHtml {
  const depth = 1;
  const n = ctx.runs.length;
  const stripFrom = Math.max(0, n - ctx.opts.stripRuns);
  const strip = ctx.runs.slice(stripFrom).map((run, k) => {
    const r = track[stripFrom + k];
    if (r === undefined && !run.record.planned.includes(id)) {
      return markup`<span class="o-none" title="${run.id}: not in this run">&nbsp;</span>`;
    }
    const look = outcomeLook(r?.outcome ?? "not-run");
    const tip = `${run.id}: ${look.text}${r?.flaky ? ", flaky" : ""}${r ? ` — ${r.reason}` : ""}`;
    const symbol = `${look.symbol}${r?.flaky ? FLAKY.symbol : ""}`;
    const target = runHref(ctx, depth, run.id);
    return target === undefined
      ? markup`<span class="${look.cls}" title="${tip}">${symbol}</span>`
      : markup`<a class="${look.cls}" href="${target}#c-${id}" title="${tip}">${symbol}</a>`;
  });

  const durations: PlotPoint[] = ctx.runs.map((run, k) => {
    const d = cellDuration(track[k]);
    return { label: run.id, y: d === null ? null : d / 60 };
  });
  const rates: PlotPoint[] = [];
  const window: boolean[] = [];
  ctx.runs.forEach((run, k) => {
    const r = track[k];
    if (r !== undefined && r.outcome !== "skip") {
      window.push(isGood(r.outcome));
      if (window.length > 10) window.shift();
    }
    const y = r === undefined || window.length === 0
      ? null
      : window.filter(Boolean).length / window.length;
    rates.push({ label: run.id, y });
  });
  const durationPlot = linePlot(durations, {
    title: `Duration of ${id} in minutes`,
    format: (m) => `${m.toFixed(1)} min`,
  });
  const ratePlot = linePlot(rates, {
    title: `Pass rate of ${id} over its last 10 results`,
    yMin: 0,
    yMax: 1,
    format: percent,
  });

  const rows = ctx.runs.slice(Math.max(0, n - ctx.opts.tableRuns)).map((run, k, list) => {
    const r = track[n - list.length + k];
    if (r === undefined) return "";
    const look = outcomeLook(r.outcome);
    const logs = logLinks(ctx, depth, run.id, id) ?? markup`<span class="muted">not kept</span>`;
    const flaky = r.flaky ? markup` ${flakyFlag(r)}` : "";
    return markup`<tr id="r-${run.id}"><td>${
      runLink(ctx, depth, run.id, `#c-${id}`)
    }</td><td class="${look.cls}">${look.symbol} ${look.text}${flaky}</td><td>${r.reason}</td><td>${
      formatDuration(cellDuration(r) ?? 0)
    }</td><td>${logs}</td></tr>`;
  }).reverse();
  const head = ["run", "outcome", "reason", "duration", "logs"].map((h) => markup`<th>${h}</th>`);

  const flips = flipCount(track);
  const flipNote = flips >= 2
    ? markup` <span class="flag">↯ outcome changed ${flips} times in its last 10 results</span>`
    : "";
  const seen = track.filter((r) => r !== undefined).length;
  const bad = track.filter((r) => r !== undefined && isUnexpected(r.outcome)).length;
  return markup`<section id="history"><h2>History</h2><p>${seen} result(s) in the last ${n} run(s), ${bad} unexpected.${flipNote}</p><p class="strip" aria-label="Outcomes, oldest first">${strip}</p><p class="muted">${LEGEND}</p><div class="plots"><figure>${durationPlot}<figcaption>Duration (minutes)</figcaption></figure><figure>${ratePlot}<figcaption>Pass rate over its last 10 results</figcaption></figure></div><table><thead><tr>${head}</tr></thead><tbody>${rows}</tbody></table></section>`;
}
