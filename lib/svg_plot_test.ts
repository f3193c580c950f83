import assert from "node:assert/strict";
import { linePlot } from "./svg_plot.ts";

Deno.test("linePlot() draws a polyline per run of values, broken at gaps", () => {
  const svg = linePlot([
    { label: "r1", y: 0.5 },
    { label: "r2", y: 1 },
    { label: "r3", y: null },
    { label: "r4", y: 0.25, href: "runs/r4.html" },
    { label: "r5", y: 0.75 },
  ], { title: "Pass rate", yMin: 0, yMax: 1, format: (v) => `${v * 100}%` }).value;
  assert.match(svg, /^<svg class="plot"[^>]* role="img" aria-label="Pass rate">/);
  assert.equal(svg.match(/<polyline /g)?.length, 2);
  assert.equal(svg.match(/<circle /g)?.length, 4);
  assert.match(svg, /<title>r2: 100%<\/title>/);
  assert.match(svg, /<a href="runs\/r4.html"><circle/);
  assert.match(svg, />100%<\/text>/);
  assert.match(svg, />r1<\/text>.*>r5<\/text>/);
});

Deno.test("linePlot() escapes labels, skips markers for long series, says when empty", () => {
  const many = Array.from({ length: 500 }, (_, i) => ({ label: `<r${i}>`, y: i }));
  const svg = linePlot(many, { title: "a<b" }).value;
  assert.ok(!svg.includes("<circle"));
  assert.ok(!svg.includes("<r0>"));
  assert.match(svg, /&lt;r0&gt;/);
  assert.match(svg, /aria-label="a&lt;b"/);
  const empty = linePlot([{ label: "r", y: null }], { title: "t" }).value;
  assert.match(empty, /No data/);
  assert.ok(!empty.includes("<polyline"));
});
