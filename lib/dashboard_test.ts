import assert from "node:assert/strict";
import { dirname, join, normalize } from "node:path";
import { buildDashboard, copyCapped, pageName, SITE_MARKER } from "./dashboard.ts";
import { mergedRunId } from "./history.ts";
import { RUN_SCHEMA, type RunRecord } from "./results.ts";
import type { CellResult, Outcome } from "./types.ts";

const FIXTURE = new URL("./testdata/history", import.meta.url).pathname;
const REGRESSED = "6.12-td-off-l1smp1-l2smp1-busybox";
const FLAKY = "6.1-td-on-l1smp1-l2smp1-busybox";
const FIXED = "6.12-td-on-l1smp2-l2smp1-busybox";
const NOW = new Date("2026-11-23T08:00:00Z");

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "vtcio-dashboard-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function files(dir: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    const rel = prefix === "" ? e.name : `${prefix}/${e.name}`;
    if (e.isDirectory) out.push(...await files(join(dir, e.name), rel));
    else out.push(rel);
  }
  return out.sort();
}

/** Every relative link target of every page, checked to exist. */
async function checkLinks(site: string): Promise<number> {
  let checked = 0;
  for (const page of (await files(site)).filter((f) => f.endsWith(".html"))) {
    const text = await Deno.readTextFile(join(site, page));
    for (const [, target] of text.matchAll(/href="([^"]*)"/g)) {
      const path = decodeURIComponent(target.replace(/&amp;/g, "&").split("#")[0]);
      if (path === "") continue;
      assert.ok(!/^[a-z]+:/i.test(path), `${page} links outside the site: ${target}`);
      const resolved = normalize(join(site, dirname(page), path));
      assert.ok(resolved.startsWith(site), `${page} links above the site: ${target}`);
      await Deno.stat(resolved).catch(() => assert.fail(`${page} links to missing ${target}`));
      checked++;
    }
  }
  return checked;
}

Deno.test("buildDashboard() makes a linked static site from the recorded history", async () => {
  await withTempDir(async (tmp) => {
    const site = join(tmp, "site");
    const summary = await buildDashboard(FIXTURE, site, { now: NOW });
    assert.equal(summary.runs, 3);
    assert.equal(summary.cells, 6);
    assert.equal(summary.pages, 1 + 3 + 6);
    assert.equal(summary.logs, 3 * 6 * 4);
    const all = await files(site);
    const latest = mergedRunId(["20261122T020000Z-e5f6", "20261122T020004Z-0a0b"]);
    assert.ok(all.includes("index.html"));
    assert.ok(all.includes(SITE_MARKER));
    assert.ok(all.includes(`runs/${latest}.html`));
    assert.ok(all.includes(`cells/${REGRESSED}.html`));
    assert.ok(all.includes(`logs/${latest}/${REGRESSED}/l1-console.txt`));
    assert.ok(await checkLinks(site) > 100);

    const index = await Deno.readTextFile(join(site, "index.html"));
    assert.ok(!/<(link|script) [^>]*src=|<link /.test(index), "no external script or style");
    // Regressions come first, before fixes and before the grid.
    const regression = index.indexOf(`data-change="regression" data-cell="${REGRESSED}"`);
    const fix = index.indexOf(`data-change="fix" data-cell="${FIXED}"`);
    const grid = index.indexOf('<table class="grid">');
    assert.ok(regression > 0 && regression < fix && fix < grid, `${regression} ${fix} ${grid}`);
    assert.match(index, /✘ fail<\/a><span class="flag">▼ regression<\/span>/);
    assert.match(
      index,
      new RegExp(
        `data-cell="${FLAKY}" data-outcome="pass" data-flaky="true">.*?✔ pass</a><span class="flag">⚠ flaky</span>`,
      ),
    );
    assert.match(
      index,
      /<dt>L1 kernel<\/dt><dd>6\.1\.119-vtcio-l1 \(3\), 6\.12\.5-vtcio-l1 \(3\)<\/dd>/,
    );
    assert.match(index, /<dt>Commit<\/dt><dd>34939a8c0ffe<\/dd>/);
    assert.match(index, /<dt>Accel<\/dt><dd>kvm<\/dd>/);
    assert.match(
      index,
      /<dt>Host<\/dt><dd>ci-runner-7, AMD EPYC 7763 64-Core Processor, 4 cores, QEMU 7\.2\.15<\/dd>/,
    );
    assert.match(index, /<dt>Duration<\/dt><dd>13m30s<\/dd>/);
    assert.match(index, /<svg class="plot"/);
    const data = JSON.parse(
      /<script type="application\/json" id="vtcio-data">(.*?)<\/script>/s.exec(index)![1],
    );
    assert.equal(data.run_id, latest);
    assert.deepEqual(data.changes.map((c: { id: string; kind: string }) => [c.id, c.kind]), [
      [REGRESSED, "regression"],
      [FIXED, "fix"],
    ]);

    const page = await Deno.readTextFile(join(site, "cells", `${REGRESSED}.html`));
    assert.match(page, /✘ fail<\/span> <span class="flag">▼ regression<\/span>/);
    assert.match(page, /✘ not ok<\/td><td>guest<\/td><td>1<\/td><td>service_absent/);
    assert.match(page, /found \/dev\/ktciodd0 &lt;major 240&gt;/);
    assert.match(
      page,
      new RegExp(`href="../logs/${latest}/${REGRESSED}/l1-console.txt" data-log="l1-console"`),
    );
    assert.match(
      page,
      /<p class="strip"[^>]*>(<a class="o-[a-z-]+" href="[^"]+" title="[^"]+">[^<]+<\/a>){3}<\/p>/,
    );
    const crash = await Deno.readTextFile(
      join(site, "cells", "6.12-td-on-l1smp2-l2smp1-busybox.html"),
    );
    assert.match(
      crash,
      /<a class="o-crash" href="..\/runs\/20261121T020000Z-c3d4.html#c-6.12-td-on-l1smp2-l2smp1-busybox" title="20261121T020000Z-c3d4: crash/,
    );
  });
});

function cell(id: string, outcome: Outcome, over: Partial<CellResult> = {}): CellResult {
  return {
    id,
    outcome,
    reason: "ok",
    tests: [],
    timings: { build: 5 },
    logs: {},
    attempts: 1,
    flaky: false,
    facts: {},
    started: "2026-11-25T03:15:00.000Z",
    finished: "2026-11-25T03:16:00.000Z",
    ...over,
  };
}

async function writeRun(root: string, id: string, cells: CellResult[]): Promise<string> {
  const record: RunRecord = {
    schema: RUN_SCHEMA,
    run_id: id,
    matrix: { file: "m.yaml", name: "<m>", sha256: "ab".repeat(32) },
    status: "complete",
    started: "2026-11-25T03:00:00.000Z",
    finished: "2026-11-25T04:00:00.000Z",
    host: { hostname: "<b>host</b>" },
    versions: { vtcio: '"><script>alert(1)</script>' },
    planned: cells.map((c) => c.id),
    argv: [],
    cells,
  };
  const dir = join(root, id);
  await Deno.mkdir(join(dir, "cells"), { recursive: true });
  await Deno.writeTextFile(join(dir, "run.json"), JSON.stringify(record));
  return dir;
}

Deno.test("buildDashboard() escapes everything that comes from results", async () => {
  await withTempDir(async (tmp) => {
    const evil = `<img src=x onerror=alert(1)>`;
    const id = `6.1-td-on-l1smp1-l2smp1-busybox-x-${evil}`;
    const dir = await writeRun(join(tmp, "results"), "20261125T030000Z-0001", [
      cell(id, "crash", {
        reason: `</script><script>alert(2)</script>`,
        crash: [`BUG ${evil}`],
        tests: [{
          name: evil,
          status: "not ok",
          number: 1,
          diagnostics: [evil],
          suite: evil,
          directive: evil,
        }],
        facts: { [evil]: evil },
        logs: { [`../${evil}`]: `cells/x/l1.log` },
      }),
    ]);
    await Deno.mkdir(join(dir, "cells", "x"), { recursive: true });
    await Deno.writeTextFile(join(dir, "cells", "x", "l1.log"), evil);
    const site = join(tmp, "site");
    await buildDashboard(join(tmp, "results"), site, { now: NOW });
    for (const f of (await files(site)).filter((f) => f.endsWith(".html"))) {
      const text = await Deno.readTextFile(join(site, f));
      assert.ok(!text.includes("<img"), f);
      assert.ok(!text.includes("alert(1)</script>"), f);
      assert.ok(!text.includes("<script>alert"), f);
      assert.ok(!text.includes("<b>host"), f);
    }
    const page = pageName(id);
    assert.match(
      page,
      /^6\.1-td-on-l1smp1-l2smp1-busybox-x-_img_src_x_onerror_alert_1__-[0-9a-f]{8}$/,
    );
    assert.ok((await files(site)).includes(`cells/${page}.html`));
    // A log name cannot leave the cell's log directory.
    assert.deepEqual((await files(site)).filter((f) => f.startsWith("logs/")), [
      `logs/20261125T030000Z-0001/${page}/___img_src_x_onerror_alert_1__.txt`,
    ]);
    await checkLinks(site);
  });
});

Deno.test("buildDashboard() limits runs, run pages and logs, and caps big logs", async () => {
  await withTempDir(async (tmp) => {
    const root = join(tmp, "results");
    for (let day = 10; day < 20; day++) {
      const id = `202611${day}T030000Z-00${day}`;
      const dir = await writeRun(root, id, [
        cell("6.1-td-on-l1smp1-l2smp1-busybox", day % 2 === 0 ? "pass" : "fail", {
          logs: { "l1-console": "cells/6.1-td-on-l1smp1-l2smp1-busybox/l1-console.log" },
        }),
      ]);
      await Deno.mkdir(join(dir, "cells", "6.1-td-on-l1smp1-l2smp1-busybox"));
      await Deno.writeTextFile(
        join(dir, "cells", "6.1-td-on-l1smp1-l2smp1-busybox", "l1-console.log"),
        `start ${day}\n${"x".repeat(5000)}\nend ${day}\n`,
      );
    }
    const site = join(tmp, "site");
    const summary = await buildDashboard(root, site, {
      maxRuns: 6,
      runPages: 3,
      logRuns: 2,
      maxLogBytes: 1024,
      now: NOW,
    });
    assert.equal(summary.runs, 6);
    const all = await files(site);
    assert.deepEqual(all.filter((f) => f.startsWith("runs/")), [
      "runs/20261117T030000Z-0017.html",
      "runs/20261118T030000Z-0018.html",
      "runs/20261119T030000Z-0019.html",
    ]);
    const logs = all.filter((f) => f.startsWith("logs/"));
    assert.equal(logs.length, 2);
    const log = await Deno.readTextFile(join(site, logs[1]));
    assert.ok(log.startsWith("start 19\n"));
    assert.ok(log.endsWith("\nend 19\n"));
    assert.match(log, /bytes cut here/);
    assert.ok(log.length < 1200);
    const page = await Deno.readTextFile(
      join(site, "cells", "6.1-td-on-l1smp1-l2smp1-busybox.html"),
    );
    assert.match(page, /6 result\(s\) in the last 6 run\(s\), 3 unexpected/);
    assert.match(page, /outcome changed 5 times/);
    assert.match(page, /not kept/);
    await checkLinks(site);

    // Rebuilding replaces the site; a directory that is not a site is refused.
    await Deno.writeTextFile(join(site, "stale.html"), "old");
    await buildDashboard(root, site, { now: NOW });
    assert.ok(!(await files(site)).includes("stale.html"));
    await Deno.mkdir(join(tmp, "other"));
    await Deno.writeTextFile(join(tmp, "other", "keep.txt"), "mine");
    await assert.rejects(() => buildDashboard(root, join(tmp, "other")), /not made by vtcio/);
    assert.equal(await Deno.readTextFile(join(tmp, "other", "keep.txt")), "mine");
    await assert.rejects(() => buildDashboard(root, site, { maxRuns: -1 }), /whole number/);
  });
});

Deno.test("buildDashboard() of an empty history says there are no runs", async () => {
  await withTempDir(async (tmp) => {
    const summary = await buildDashboard(join(tmp, "none"), join(tmp, "site"));
    assert.equal(summary.runs, 0);
    assert.match(await Deno.readTextFile(join(tmp, "site", "index.html")), /No runs yet/);
  });
});

Deno.test("copyCapped() keeps small files whole and cuts big ones in the middle", async () => {
  await withTempDir(async (tmp) => {
    await Deno.writeTextFile(join(tmp, "small"), "hello");
    assert.deepEqual(await copyCapped(join(tmp, "small"), join(tmp, "out", "a"), 10), {
      bytes: 5,
      cut: false,
    });
    assert.equal(await Deno.readTextFile(join(tmp, "out", "a")), "hello");
    await Deno.writeTextFile(
      join(tmp, "big"),
      "H".repeat(100) + "M".repeat(10000) + "T".repeat(700),
    );
    assert.deepEqual(await copyCapped(join(tmp, "big"), join(tmp, "out", "b"), 800), {
      bytes: 10800,
      cut: true,
    });
    const text = await Deno.readTextFile(join(tmp, "out", "b"));
    assert.ok(text.startsWith("H".repeat(100)));
    assert.ok(text.endsWith("T".repeat(700)));
    assert.match(text, /10000 bytes cut here/);
  });
});

Deno.test("buildDashboard() says how many cells ran for the first time", async () => {
  await withTempDir(async (tmp) => {
    const results = join(tmp, "results");
    await writeRun(results, "20261125T030000Z-0001", [cell("a", "pass")]);
    await writeRun(results, "20261126T030000Z-0002", [
      cell("a", "pass"),
      cell("b", "pass"),
      cell("c", "pass"),
    ]);
    const site = join(tmp, "site");
    await buildDashboard(results, site, { now: NOW });
    const text = (await Deno.readTextFile(join(site, "index.html"))).replace(/<[^>]*>/g, "");
    assert.match(
      text,
      /Nothing failing; 2 cells ran for the first time, nothing changed for the others since run 20261125T030000Z-0001\./,
    );
  });
});
