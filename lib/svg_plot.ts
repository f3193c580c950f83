/**
 * Small inline SVG line plots for the dashboard: one series over time, no script, no external
 * style, readable without colour (points carry a `<title>` with their label and value).
 *
 * @module
 */

import { markup, raw, type SafeHtml } from "./html.ts";

/** One point of a series; `y` null leaves a gap (no data for that run). */
export interface PlotPoint {
  /** Shown in the point's tooltip, e.g. a run id. */
  label: string;
  y: number | null;
  /** Optional link target of the point. */
  href?: string;
}

/** Options of {@linkcode linePlot}. */
export interface PlotOptions {
  /** Accessible name of the plot, e.g. "Pass rate over the last 30 runs". */
  title: string;
  /** Formats a value for the axis and tooltips (default: 3 significant digits). */
  format?: (y: number) => string;
  /** Fixed vertical range; defaults to 0 .. the largest value. */
  yMin?: number;
  yMax?: number;
  width?: number;
  height?: number;
  /** Draw a circle per point when there are at most this many (default 120). */
  maxMarkers?: number;
}

const PAD = { left: 56, right: 12, top: 10, bottom: 22 };

function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}

/** A line plot of `points` in order (x is the position), as an `<svg>` element. */
export function linePlot(points: PlotPoint[], options: PlotOptions): SafeHtml {
  const width = options.width ?? 560;
  const height = options.height ?? 160;
  const format = options.format ?? ((y: number) => String(Number(y.toPrecision(3))));
  const values = points.map((p) => p.y).filter((y): y is number => y !== null && isFinite(y));
  const yMin = options.yMin ?? 0;
  let yMax = options.yMax ?? Math.max(yMin, ...values);
  if (yMax <= yMin) yMax = yMin + 1;
  const plotW = width - PAD.left - PAD.right;
  const plotH = height - PAD.top - PAD.bottom;
  const bottom = PAD.top + plotH;
  const right = PAD.left + plotW;
  const x = (i: number) =>
    PAD.left + (points.length <= 1 ? plotW / 2 : (i * plotW) / (points.length - 1));
  const y = (v: number) => PAD.top + plotH - ((v - yMin) * plotH) / (yMax - yMin);

  // Polyline segments, broken at gaps.
  const segments: string[] = [];
  let current: string[] = [];
  points.forEach((p, i) => {
    if (p.y === null || !isFinite(p.y)) {
      if (current.length > 0) segments.push(current.join(" "));
      current = [];
      return;
    }
    current.push(`${fmt(x(i))},${fmt(y(p.y))}`);
  });
  if (current.length > 0) segments.push(current.join(" "));

  const markers = points.length <= (options.maxMarkers ?? 120)
    ? points.map((p, i) => {
      if (p.y === null || !isFinite(p.y)) return raw("");
      const tip = `${p.label}: ${format(p.y)}`;
      const dot = markup`<circle cx="${fmt(x(i))}" cy="${
        fmt(y(p.y))
      }" r="3"><title>${tip}</title></circle>`;
      return p.href === undefined ? dot : markup`<a href="${p.href}">${dot}</a>`;
    })
    : [];
  const first = points[0]?.label ?? "";
  const last = points.at(-1)?.label ?? "";
  const empty = values.length === 0
    ? markup`<text x="${width / 2}" y="${height / 2}" text-anchor="middle">No data</text>`
    : "";
  const lines = segments.map((s) =>
    markup`<polyline fill="none" stroke="currentColor" stroke-width="1.5" points="${s}"/>`
  );
  const axes =
    markup`<g class="axes" stroke="#888" fill="none"><line x1="${PAD.left}" y1="${PAD.top}" x2="${PAD.left}" y2="${bottom}"/><line x1="${PAD.left}" y1="${bottom}" x2="${right}" y2="${bottom}"/></g>`;
  const labels = markup`<g class="labels" font-size="11" fill="currentColor"><text x="${
    PAD.left - 4
  }" y="${PAD.top + 8}" text-anchor="end">${format(yMax)}</text><text x="${
    PAD.left - 4
  }" y="${bottom}" text-anchor="end">${format(yMin)}</text><text x="${PAD.left}" y="${
    height - 6
  }">${first}</text><text x="${right}" y="${height - 6}" text-anchor="end">${last}</text></g>`;

  return markup`<svg class="plot" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${options.title}"><title>${options.title}</title>${axes}${labels}${lines}<g class="points" fill="currentColor">${markers}</g>${empty}</svg>`;
}
