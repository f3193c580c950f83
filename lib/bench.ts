/**
 * `deno task bench`: measurements of vtcio, written to bench/results.json and as Markdown tables
 * into BENCHMARKS.md (between its markers; the prose around them is kept). The machines are noisy:
 * figures are medians of several repeats (each row says of how many), alternatives are compared
 * as ratios measured side by side, and the machine's load is recorded with the results.
 *
 * Sections (`--only` picks some; the others' rows are kept from bench/results.json):
 *
 * - `phases`: a smoke cell phase by phase, cold, warm and incremental (lib/bench_cell.ts);
 * - `pv`: the paravirtual path against tcioDD in L1 and virtio-vsock (lib/bench_pv.ts);
 * - `scale`: the runner at scale, each in its own process for its peak memory
 *   (lib/bench_scale.ts, lib/bench_dashboard.ts);
 * - `matrix`: the smoke matrix's wall time and cells per hour, cold and warm (the phases' runs);
 * - `runs`: the same figures of finished runs given with `--from-run`, such as nightlies, each
 *   with how many of its cells compiled kernels (cold or warm cache).
 *
 * The quick mode (CI) runs everything small and real in about a minute, writes
 * results/bench-quick.json and leaves the committed figures alone.
 *
 * @module
 */

import { join } from "node:path";
import { benchIndexOpen } from "./bench_dashboard.ts";
import { benchScale, median, SCALE_FULL, SCALE_QUICK } from "./bench_scale.ts";
import { benchCell, type CellBench, type IncrementalBuild } from "./bench_cell.ts";
import { PHASES, readRun, runMatrix, type RunStats, runStats } from "./bench_runs.ts";
import { PV_PATHS, type PvSample, pvSamples, summarizePv } from "./bench_pv.ts";
import { STEP_NAMES } from "./bench_timeline.ts";
import { bootLaunches, type Launch, type LaunchMedian, launchMedians } from "./bench_boot.ts";
import { writeFileAtomic } from "./results.ts";

export { median };

/** The sections of a bench run, in report order. */
export const SECTIONS = ["phases", "pv", "scale", "matrix", "runs"] as const;
export type Section = typeof SECTIONS[number];

/** One measured number. */
export interface BenchRow {
  section: Section;
  name: string;
  value: number;
  unit: string;
  /** The reference or target the issue sets, if any, as text (e.g. "8.6 s", "< 5 s"). */
  target?: string;
  /** Whether the value meets the target; undefined without one or for a reference. */
  met?: boolean;
  detail?: string;
}

/** What a bench run produced. */
export interface BenchReport {
  date: string;
  quick: boolean;
  machine: Record<string, string>;
  /** Sections measured by this run (the others' rows came from an earlier one). */
  measured: Section[];
  rows: BenchRow[];
  /** Run directories whose consoles and run.json back the rows. */
  runs: string[];
  /** Raw measurements, for reading the rows again. */
  data: Record<string, unknown>;
  /** When each section's rows were measured (the runs before this field: see mergeReports). */
  sections?: Partial<Record<Section, string>>;
}

/** Everything the bench needs from the host. */
export interface BenchOptions {
  repo: string;
  cache: string;
  results: string;
  tarballs: Record<string, string>;
  accel: string;
  quick: boolean;
  /** Sections to run (default: all). */
  only?: Section[];
  /** Repeats of the warm runs and pv boots (default 3; quick: 1). */
  repeats?: number;
  /** Finished runs to report in the matrix section. */
  fromRuns?: string[];
  log?: (line: string) => void;
}

/** The load average and memory of the machine, for the record. */
export function machineLoad(): string {
  try {
    const [one, five, fifteen] = Deno.readTextFileSync("/proc/loadavg").split(" ");
    return `${one} ${five} ${fifteen}`;
  } catch {
    return "unknown";
  }
}

function cpuModel(): string {
  try {
    const m = /^model name\s*:\s*(.*)$/m.exec(Deno.readTextFileSync("/proc/cpuinfo"));
    return m ? m[1] : "unknown";
  } catch {
    return "unknown";
  }
}

const s1 = (v: number) => Math.round(v * 10) / 10;

/** Rows of the matrix (or runs) section for one finished run. */
export function runRows(label: string, st: RunStats, section: Section = "matrix"): BenchRow[] {
  const outcomes = Object.entries(st.outcomes).map(([o, n]) => `${n} ${o}`).join(", ");
  const build = st.phaseTotals.build ?? 0;
  const rows: BenchRow[] = [
    {
      section,
      name: `${label}: wall time`,
      value: st.wallSeconds,
      unit: "s",
      detail: `run ${st.runId}, ${st.cells} cells (${outcomes}), ${st.retries} retries; ` +
        `${st.builtCells} cells compiled kernels (build phases ${s1(build)} s in all)`,
    },
    {
      section,
      name: `${label}: cells per hour`,
      value: st.cellsPerHour,
      unit: "cells/h",
      detail: `median cell ${s1(st.cellMedian)} s; phase medians ${
        PHASES.filter((p) => st.phaseMedians[p] !== undefined)
          .map((p) => `${p} ${s1(st.phaseMedians[p]!)}`).join(", ")
      } s`,
    },
  ];
  if (st.runner) {
    const r = st.runner;
    rows.push({
      section,
      name: `${label}: runner overhead (neither QEMU nor a compiler running)`,
      value: r.overhead_s,
      unit: "s",
      detail: `of ${s1(r.wall_s)} s${
        st.runnerParts ? ` (its ${st.runnerParts} shards' summed)` : ""
      }: QEMU ${s1(r.qemu_s)} s, compilers ${s1(r.compiler_s)} s; overhead = tools ${
        s1(r.tools_s)
      } s + vtcio ${s1(r.own_s)} s`,
    });
  }
  return rows;
}

function medianOf(values: Array<number | undefined>): number {
  const v = values.filter((x): x is number => x !== undefined && Number.isFinite(x));
  return v.length ? median(v) : NaN;
}

/** Rows of the phases section (and the smoke runs of the matrix section). */
export function cellRows(c: CellBench, reference = 8.6): BenchRow[] {
  const rows: BenchRow[] = [];
  const phase = (name: string, value: number, detail: string, extra: Partial<BenchRow> = {}) =>
    rows.push({ section: "phases", name, value, unit: "s", detail, ...extra });
  if (c.coldOn) {
    phase(
      "kernel build, cold (L1 and L2 of a cell, empty cache and ccache)",
      c.coldOn.build ?? NaN,
      `one run; make alone: ${
        Object.entries(c.coldKernels ?? {}).map(([k, v]) => `${k} ${s1(v)} s`).join(", ")
      }; the rest is extracting and preparing the sources and configuring`,
    );
    phase(
      "guest image build, cold (static userspace, L1 and L2 initramfs)",
      c.coldOn.image ?? NaN,
      "one run",
    );
  }
  if (c.coldOff) {
    phase(
      "kernel build after flipping TESTDEVICE (smoke's second cell, cold run)",
      c.coldOff.build ?? NaN,
      "one run: L1 TESTDEVICE off rebuilt in the directory of L1 on; L2 already built",
    );
  }
  const cells = c.warm.length;
  if (cells > 0) {
    const m = (p: string) => medianOf(c.warm.map((r) => r.phaseMedians[p as "build"]));
    const n = `median over ${cells} run(s) of the per-run median cell`;
    phase("kernel build, warm (cache hit)", m("build"), n);
    phase("guest image build, warm (cache hit)", m("image"), n);
    phase("boot phases as recorded: l1_boot", m("l1_boot"), `${n} (QEMU start to L1's init)`);
    phase(
      "boot phases as recorded: clients",
      m("clients"),
      `${n} (L1's init to L2's launch, plus the guest suite)`,
    );
    phase("boot phases as recorded: l2_boot", m("l2_boot"), `${n} (L2's launch to its init)`);
    const tl = c.timelines;
    for (const [step, label] of Object.entries(STEP_NAMES)) {
      const v = medianOf(tl.map((t) => t[step]));
      if (Number.isNaN(v)) continue;
      phase(label, v, `median over ${tl.length} cell boot(s), from the console stamps`, {
        ...(step === "total" ? { target: `${reference} s (empty cycle)` } : {}),
      });
    }
    const cell = medianOf(c.warm.map((r) => r.cellMedian));
    phase("smoke cell, warm, start to verdict", cell, n, {
      target: `${reference} s (empty cycle)`,
      detail: `${n}; ${(cell / reference).toFixed(2)}x the empty nested cycle`,
    });
    const overhead = c.warm.map((r) => r.runner?.overhead_s);
    const wall = c.warm.map((r) => r.runner?.wall_s);
    phase(
      "runner overhead of a warm smoke run (neither QEMU nor a compiler running)",
      medianOf(overhead),
      `median of ${cells}; of a ${s1(medianOf(wall))} s process: tools ${
        s1(medianOf(c.warm.map((r) => r.runner?.tools_s)))
      } s, vtcio ${s1(medianOf(c.warm.map((r) => r.runner?.own_s)))} s`,
    );
  }
  const inc = (xs: IncrementalBuild[]) => ({
    seconds: medianOf(xs.map((x) => x.seconds)),
    make: medianOf(xs.map((x) => x.makeSeconds)),
    sync: medianOf(xs.map((x) => x.syncSeconds)),
  });
  if (c.driverOnly.length > 0) {
    const d = inc(c.driverOnly);
    phase(
      "kernel build after touching only the guest driver (L2, which holds it)",
      d.seconds,
      `median of ${c.driverOnly.length}: make ${s1(d.make)} s, source tree sync ${s1(d.sync)} s`,
    );
  }
  if (c.smokeAfterEdit.length > 0) {
    const n = c.smokeAfterEdit.length;
    const [l1on, l1off, l2] = [0, 1, 2].map((i) => inc(c.smokeAfterEdit.map((r) => r[i])));
    phase(
      "the three smoke kernels after a guest-driver edit (L1 on, L1 off, L2)",
      medianOf(c.smokeAfterEdit.map((r) => r.reduce((a, b) => a + b.seconds, 0))),
      `median of ${n}: L1 on ${s1(l1on.seconds)} s (sync ${s1(l1on.sync)} s), L1 off ${
        s1(l1off.seconds)
      } s, L2 ${s1(l2.seconds)} s; one build directory`,
    );
    phase(
      "kernel build after flipping TESTDEVICE (L1 off right after L1 on, same sources)",
      l1off.seconds,
      `median of ${n}: make ${s1(l1off.make)} s`,
    );
  }
  for (const s of c.skipped) {
    rows.push({ section: "phases", name: "not measured", value: NaN, unit: "", detail: s });
  }
  if (c.cold) {
    rows.push(...runRows("smoke, cold cache (--jobs 1)", c.cold));
  }
  if (c.warm.length > 0 && c.cold === undefined && c.warm[0].cells === 1) {
    rows.push(...runRows("one smoke cell, warm cache", c.warm[0]));
  } else if (c.warm.length > 0) {
    const w = c.warm;
    const mid = [...w].sort((a, b) => a.wallSeconds - b.wallSeconds)[Math.floor(w.length / 2)];
    rows.push(...runRows(`smoke, warm cache (median of ${w.length})`, mid));
  }
  return rows;
}

/** Rows of the L2 launches, by 9p cache mode of QEMU's root (bench-boot). */
export function launchRows(medians: LaunchMedian[]): BenchRow[] {
  return medians.map((m) => ({
    section: "phases" as const,
    name: `L2 launch to L2's init, QEMU's root over 9p cache=${m.mode}, launch ${m.n} ` +
      `(${m.n === 1 ? "cache cold, as in a cell" : "cache warm"})`,
    value: m.init,
    unit: "s",
    detail: `to L2's first line ${s1(m.firstLine)} s, to QEMU's exit ${
      s1(m.exit)
    } s; median of ${m.boots} boot(s), modes side by side in each`,
  }));
}

/** Rows of the pv section. */
export function pvRows(boots: PvSample[][], runIds: string[]): BenchRow[] {
  const { points, ratios } = summarizePv(boots);
  const rows: BenchRow[] = [];
  const size = (n: number) => n >= 1024 ? `${Math.round(n / 1024)} KiB` : `${n} B`;
  for (const p of points) {
    rows.push({
      section: "pv",
      name: `${size(p.size)} x${p.clients} ${PV_PATHS[p.path] ?? p.path}: latency p50`,
      value: p.p50_us / 1000,
      unit: "ms",
      detail: `p99 ${(p.p99_us / 1000).toFixed(2)} ms; ${p.rps.toFixed(0)} req/s, ${
        p.mbps.toFixed(2)
      } MB/s; median of ${p.boots} boot(s)${p.failed ? `, ${p.failed} failed` : ""}`,
    });
  }
  for (const r of ratios) {
    const name = (x: string) => x === "ktciodd0" ? "ktcioDD" : x === "tcioDD0" ? "tcioDD" : x;
    rows.push({
      section: "pv",
      name: `${size(r.size)} x${r.clients}: ${name(r.of)} / ${name(r.to)}, latency p50`,
      value: r.latency,
      unit: "x",
      target: r.of === "ktciodd0" ? "<= 1 (not slower than vsock)" : undefined,
      met: r.of === "ktciodd0" ? r.latency <= 1 : undefined,
      detail: `throughput ratio ${r.throughput.toFixed(2)}; median of ${r.boots} boot(s), ` +
        `each ratio measured in one boot`,
    });
  }
  if (rows.length === 0) {
    rows.push({
      section: "pv",
      name: "not measured",
      value: NaN,
      unit: "",
      detail: `no vtcio-bench lines in runs ${runIds.join(", ")}`,
    });
  }
  return rows;
}

/** Runs the sections asked for and returns the report. */
export async function runBench(o: BenchOptions): Promise<BenchReport> {
  const log = o.log ?? (() => {});
  const only = new Set<Section>(o.only ?? SECTIONS);
  const repeats = o.repeats ?? (o.quick ? 1 : 3);
  const rows: BenchRow[] = [];
  const runs: string[] = [];
  const data: Record<string, unknown> = {};
  const loadBefore = machineLoad();
  const measured: Section[] = [];

  if (only.has("scale")) {
    measured.push("scale");
    log("scale: plan, merge, dashboard, each in its own process");
    const work = await Deno.makeTempDir({ prefix: "vtcio-bench-scale-" });
    try {
      const sizes = o.quick ? SCALE_QUICK : SCALE_FULL;
      const s = await benchScale(o.repo, work, sizes);
      data.scale = s;
      const row = (name: string, value: number, unit: string, detail: string, target?: number) =>
        rows.push({
          section: "scale",
          name,
          value,
          unit,
          detail,
          ...(target === undefined ? {} : { target: `< ${target} s`, met: value < target }),
        });
      const n = (w: { seconds: number[] }) => `median of ${w.seconds.length}`;
      row(
        `plan of a ${s.plan.detail.cells}-cell matrix (parse, validate, expand)`,
        median(s.plan.seconds),
        "s",
        n(s.plan),
      );
      row(
        `merge of ${s.merge.detail.shards} shards, ${s.merge.detail.cells} cells with logs`,
        median(s.merge.seconds),
        "s",
        `${n(s.merge)}; run.json, junit.xml and every cell directory`,
      );
      row(
        `dashboard of ${sizes.dashboardRuns} runs x ${sizes.dashboardCells} cells (build)`,
        median(s.dashboard.seconds),
        "s",
        `${
          n(s.dashboard)
        }; ${s.dashboard.detail.pages} pages, index ${s.dashboard.detail.indexKiB} KiB`,
        o.quick ? undefined : 5,
      );
      for (const w of [s.plan, s.merge, s.dashboard]) {
        row(
          `peak memory: ${w.kind}`,
          w.peakMiB,
          "MiB",
          `VmHWM of its own process; Deno alone ${s.noop.peakMiB.toFixed(0)} MiB`,
        );
      }
      try {
        const open = await benchIndexOpen(s.site, o.quick ? 1 : 5);
        rows.push({
          section: "scale",
          name: "dashboard index opens in Chromium (cold, to load event)",
          value: open.coldSeconds,
          unit: "s",
          target: o.quick ? undefined : "< 1 s",
          met: o.quick ? undefined : open.coldSeconds < 1,
          detail: `warm median ${open.medianWarmSeconds.toFixed(3)} s`,
        });
      } catch (e) {
        rows.push({
          section: "scale",
          name: "dashboard index opens in Chromium",
          value: NaN,
          unit: "s",
          detail: `not measured: ${(e as Error).message.split("\n")[0]}`,
        });
      }
    } finally {
      await Deno.remove(work, { recursive: true }).catch(() => {});
    }
  }

  let cell: CellBench | undefined;
  // The smoke runs behind the matrix section's rows are those of the phases.
  if (only.has("phases") || only.has("matrix")) {
    for (const s of ["phases", "matrix"] as const) if (only.has(s)) measured.push(s);
    log(`phases: the smoke matrix ${o.quick ? "(one warm cell)" : "cold, warm and incremental"}`);
    cell = await benchCell({
      repo: o.repo,
      cache: o.cache,
      tarballs: o.tarballs,
      quick: o.quick,
      repeats,
      incrementalRepeats: o.quick ? 0 : repeats,
      results: o.results,
      log,
    });
    runs.push(...cell.runs);
    data.phases = cell;
    if (!o.quick && only.has("phases")) {
      const launches: Launch[] = [];
      for (let i = 0; i < repeats; i++) {
        log(`phases: L2 launches with 9p caches, boot ${i + 1} of ${repeats}`);
        const m = await runMatrix(
          o.repo,
          ["matrix/bench.yaml", "--only", "bench=boot", "--retry", "0"],
          { VTCIO_CACHE: o.cache, VTCIO_RESULTS: o.results },
          log,
        );
        runs.push(m.dir);
        for (const c of m.record.cells) {
          const read = (name: string) =>
            Deno.readTextFile(join(m.dir, "cells", c.id, name)).catch(() => "");
          launches.push(
            ...bootLaunches(await read("l1-console.log"), await read("l2-console.log")),
          );
        }
      }
      data.launches = launches;
      rows.push(...launchRows(launchMedians(launches)));
    }
    rows.push(...cellRows(cell).filter((r) => only.has(r.section)));
  }

  if (only.has("pv") && !o.quick) {
    measured.push("pv");
    const boots: PvSample[][] = [];
    const ids: string[] = [];
    for (let i = 0; i < repeats; i++) {
      log(`pv: boot ${i + 1} of ${repeats}`);
      const m = await runMatrix(
        o.repo,
        ["matrix/bench.yaml", "--only", "bench=pv"],
        { VTCIO_CACHE: o.cache, VTCIO_RESULTS: o.results },
        log,
      );
      runs.push(m.dir);
      ids.push(m.record.run_id);
      const samples = pvSamples(m.record);
      if (samples.length > 0) boots.push(samples);
    }
    data.pv = { runs: ids, boots };
    rows.push(...pvRows(boots, ids));
  } else if (only.has("pv")) {
    rows.push({
      section: "pv",
      name: "not measured",
      value: NaN,
      unit: "",
      detail: "quick mode: the pv boots need the bench kernels (vsock); run the full bench",
    });
  }

  // Without runs to read, the rows of the last runs read stay.
  if (only.has("runs") && (o.fromRuns ?? []).length > 0) {
    measured.push("runs");
    for (const dir of o.fromRuns ?? []) {
      const st = runStats(await readRun(dir));
      rows.push(...runRows(`${st.matrix}, run ${st.runId}`, st, "runs"));
      runs.push(dir);
    }
  }

  return {
    date: new Date().toISOString(),
    quick: o.quick,
    machine: {
      cores: String(navigator.hardwareConcurrency),
      cpu: cpuModel(),
      accel: o.accel,
      deno: Deno.version.deno,
      os: `${Deno.build.os} ${Deno.build.arch}`,
      "load before": loadBefore,
      "load after": machineLoad(),
    },
    measured,
    rows,
    runs,
    data,
  };
}

/**
 * `report`'s rows, with the rows of the sections it did not measure taken from `previous`; each
 * section keeps the date it was measured, and the machine note names the earlier ones.
 */
export function mergeReports(report: BenchReport, previous?: BenchReport): BenchReport {
  const now = Object.fromEntries(report.measured.map((s) => [s, report.date]));
  if (!previous) return { ...report, sections: now };
  const kept = previous.rows.filter((r) => !report.measured.includes(r.section));
  if (kept.length === 0) return { ...report, sections: now };
  const rows = SECTIONS.flatMap((s) => [
    ...kept.filter((r) => r.section === s),
    ...report.rows.filter((r) => r.section === s),
  ]);
  const earlier = [...new Set(kept.map((r) => r.section))];
  // Reports written before `sections` existed: their rows are dated to the report.
  const sections: Partial<Record<Section, string>> = { ...now };
  for (const s of earlier) sections[s] = previous.sections?.[s] ?? previous.date;
  const byDate = new Map<string, Section[]>();
  for (const s of earlier) byDate.set(sections[s]!, [...byDate.get(sections[s]!) ?? [], s]);
  const note = [...byDate].sort(([a], [b]) => a.localeCompare(b))
    .map(([date, ss]) => `${ss.join(", ")} from the run of ${date}`).join("; ");
  return {
    ...report,
    rows,
    runs: [...new Set([...previous.runs ?? [], ...report.runs])],
    data: { ...previous.data, ...report.data },
    sections,
    machine: { ...report.machine, note: `sections ${note}` },
  };
}

const TITLES: Record<Section, string> = {
  phases: "A smoke cell, phase by phase",
  pv: "The paravirtual path against its alternatives (echo round trips)",
  scale: "The runner at scale",
  matrix: "Whole matrices",
  runs: "Whole matrices: finished runs read with --from-run (the nightly)",
};

/** The Markdown tables of a report, one per section. */
export function benchMarkdown(r: BenchReport): string {
  const fmt = (v: number) =>
    Number.isNaN(v) ? "n/a" : Math.abs(v) < 10 ? v.toFixed(3) : v.toFixed(1);
  const m = r.machine;
  const lines = [
    `Measured ${r.date}${r.quick ? " (quick mode)" : ""} on ${m.cores} cores (${m.cpu}), ` +
    `L1 under ${m.accel ?? "?"}, Deno ${m.deno}, ${m.os}; load average ${
      m["load before"] ?? "?"
    } before, ${m["load after"] ?? "?"} after.${m.note ? ` (${m.note}.)` : ""}`,
  ];
  for (const s of SECTIONS) {
    const rows = r.rows.filter((row) => row.section === s);
    if (rows.length === 0) continue;
    lines.push(
      "",
      `### ${TITLES[s]}`,
      "",
      "| benchmark | value | reference | detail |",
      "| --- | --- | --- | --- |",
    );
    for (const row of rows) {
      const target = row.target
        ? `${row.target}${row.met === undefined ? "" : row.met ? " (met)" : " (missed)"}`
        : "";
      lines.push(
        `| ${row.name} | ${fmt(row.value)} ${row.unit} | ${target} | ${row.detail ?? ""} |`,
      );
    }
  }
  if (r.runs.length > 0) {
    lines.push(
      "",
      // The same run may have been read from two places (a history store and a re-merge).
      `Runs behind these figures: ${
        [...new Set(r.runs.map((d) => d.split("/").pop()))].join(", ")
      }.`,
    );
  }
  return lines.join("\n") + "\n";
}

const BEGIN = "<!-- bench:begin -->";
const END = "<!-- bench:end -->";

/** Replaces the generated part of BENCHMARKS.md (between markers), keeping the prose around it. */
export function updateBenchmarksMd(existing: string, table: string): string {
  const block = `${BEGIN}\n${table}${END}`;
  const i = existing.indexOf(BEGIN);
  const j = existing.indexOf(END);
  if (i >= 0 && j > i) return existing.slice(0, i) + block + existing.slice(j + END.length);
  return (existing ? existing.trimEnd() + "\n\n" : "# Benchmarks\n\n") + block + "\n";
}

/**
 * Writes a full report to bench/results.json and BENCHMARKS.md under `repo` (merged with the
 * previous report's sections it did not measure); a quick one to `<results>/bench-quick.json`.
 * Returns the report as written.
 */
export async function writeBench(
  repo: string,
  results: string,
  r: BenchReport,
): Promise<BenchReport> {
  if (r.quick) {
    await Deno.mkdir(results, { recursive: true });
    await writeFileAtomic(join(results, "bench-quick.json"), JSON.stringify(r, null, 2) + "\n");
    return r;
  }
  const path = `${repo}/bench/results.json`;
  const previous = await Deno.readTextFile(path).then(
    (t) => JSON.parse(t) as BenchReport,
    () => undefined,
  );
  const merged = mergeReports(r, previous?.measured ? previous : undefined);
  await Deno.mkdir(`${repo}/bench`, { recursive: true });
  await writeFileAtomic(path, JSON.stringify(merged, null, 2) + "\n");
  const md = await Deno.readTextFile(`${repo}/BENCHMARKS.md`).catch(() => "");
  await writeFileAtomic(`${repo}/BENCHMARKS.md`, updateBenchmarksMd(md, benchMarkdown(merged)));
  return merged;
}
