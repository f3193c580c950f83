/**
 * The dashboard in a real browser: built from the recorded history (lib/testdata/history),
 * opened from disk in Debian's Chromium. Skipped, with the reason printed, when Chromium is not
 * installed.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { findChromium, withChromium } from "./browser.ts";
import { buildDashboard } from "./dashboard.ts";
import { decodePng, distinctColors } from "./png_colors.ts";

const FIXTURE = new URL("./testdata/history", import.meta.url).pathname;
const REGRESSED = "6.12-td-off-l1smp1-l2smp1-busybox";
const FLAKY = "6.1-td-on-l1smp1-l2smp1-busybox";
const STATUS =
  /^(✔ pass|⊖ xfail|○ skip|✘ fail|❗ xpass|⛔ error|🔨 build-error|⏱ timeout|💥 crash|· not run)/;

const chromium = findChromium();
if ("missing" in chromium) {
  console.log(`dashboard_browser_test: skipped, no Chromium: ${chromium.missing}`);
}

Deno.test({
  name:
    "dashboard opened from disk: grid, regression first, flaky mark, cell page, log, screenshot",
  ignore: "missing" in chromium,
  fn: async () => {
    const tmp = await Deno.makeTempDir({ prefix: "vtcio-browser-" });
    try {
      const site = join(tmp, "site");
      await buildDashboard(FIXTURE, site, { now: new Date("2026-11-23T08:00:00Z") });
      await withChromium(async (context) => {
        const page = await context.newPage();
        const errors: string[] = [];
        page.on("pageerror", (e) => errors.push(String(e)));
        page.on("console", (m) => {
          if (m.type() === "error") errors.push(m.text());
        });
        const response = await page.goto(`file://${site}/index.html`);
        assert.ok(response === null || response.ok());

        // The grid: every cell shows its outcome as a symbol and a word.
        const cells = page.locator("table.grid td[data-cell]");
        assert.equal(await cells.count(), 6);
        for (const text of await cells.allInnerTexts()) assert.match(text.trim(), STATUS);
        assert.match(
          await page.locator(`td[data-cell="${REGRESSED}"]`).innerText(),
          /✘ fail\s*▼ regression/,
        );
        assert.match(
          await page.locator(`td[data-cell="${FLAKY}"]`).innerText(),
          /✔ pass\s*⚠ flaky/,
        );

        // Changes come first, the regression at their head.
        const first = page.locator("li[data-change]").first();
        assert.equal(await first.getAttribute("data-change"), "regression");
        assert.equal(await first.getAttribute("data-cell"), REGRESSED);
        assert.match(await first.innerText(), /✘ fail \(was ✔ pass in run 20261121T020000Z-c3d4\)/);
        const headings = await page.locator("h2, h3").allInnerTexts();
        assert.deepEqual(headings.slice(0, 4), [
          "Changes",
          "Regressions (1)",
          "Fixes (1)",
          "⚠ Flaky (1)",
        ]);
        const gridTop = (await page.locator("table.grid").boundingBox())!.y;
        assert.ok((await first.boundingBox())!.y < gridTop);

        // The filter hides rows where every cell passed.
        const okRow = page.locator("table.grid tr.ok-row").first();
        assert.ok(await okRow.isVisible());
        await page.locator("#problems-only").check();
        assert.ok(!(await okRow.isVisible()));
        await page.locator("#problems-only").uncheck();

        // Not blank: a real screenshot with many colours.
        const png = decodePng(new Uint8Array(await page.screenshot({ fullPage: true })));
        assert.equal(png.width, 1280);
        const colours = distinctColors(png);
        assert.ok(colours > 50, `only ${colours} colours in the screenshot`);

        // Grid -> cell page -> L1 console log.
        await page.locator(`td[data-cell="${REGRESSED}"] a`).click();
        await page.waitForURL(`**/cells/${REGRESSED}.html`);
        assert.equal(await page.locator("h1").innerText(), REGRESSED);
        assert.match(
          await page.locator("#tests").innerText(),
          /✘ not ok\s+guest\s+1\s+service_absent/,
        );
        assert.equal(await page.locator(".strip a").count(), 3);
        await page.locator('#logs a[data-log="l1-console"]').click();
        await page.waitForURL(/\/l1-console\.txt$/);
        const log = await page.locator("body").innerText();
        assert.match(log, /Linux version 6\.12\.5-vtcio-l1/);
        assert.match(log, /vtcio-l1: host-suite begin/);
        assert.deepEqual(errors, []);
      }, { viewport: { width: 1280, height: 900 } });
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});
