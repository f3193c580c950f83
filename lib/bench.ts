/**
 * `deno task bench`: measurements of the runner at scale, written to bench/results.json and as a
 * Markdown table into BENCHMARKS.md. Medians of several repeats (the machines are noisy); the
 * quick mode runs every benchmark once on smaller inputs, so CI proves they still work.
 *
 * Measured so far: planning a large matrix, and the dashboard of a long history (build, and the
 * index page opening in Chromium). The per-phase cell timings and the paravirtual-path latency
 * comparison are still to come (issue 7); they are not reported rather than guessed.
 */
import { parseMatrix } from "./matrix_parse.ts";
import { expandMatrix } from "./plan.ts";
import { benchDashboard } from "./bench_dashboard.ts";
import { writeFileAtomic } from "./results.ts";

/** One measured number. */
export interface BenchRow {
  name: string;
  value: number;
  unit: string;
  /** The target the issue sets, if any, as text (e.g. "< 5 s"). */
  target?: string;
  /** Whether the value meets the target; undefined without one. */
  met?: boolean;
  detail?: string;
}

/** What a bench run produced. */
export interface BenchReport {
  date: string;
  quick: boolean;
  machine: Record<string, string>;
  rows: BenchRow[];
}

/** The median of numbers (the mean of the middle two for an even count). */
export function median(values: number[]): number {
  if (values.length === 0) throw new Error("No values to take the median of");
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** A matrix text with about `cells` combinations, all from one product. */
export function largeMatrix(cells: number): string {
  // kernel x testdevice x l1_smp x l2_smp x a user axis sized to reach the count.
  const base = 3 * 2 * 4 * 4;
  const n = Math.max(1, Math.ceil(cells / base));
  const values = Array.from({ length: n }, (_, i) => `v${i}`);
  const opts = values.map((v) => `    ${v}: { l2_qemu: ["-name", "${v}"] }`).join("\n");
  return [
    "name: bench",
    "axes:",
    '  kernel: ["6.1", "6.12", "7.2"]',
    "  testdevice: [on, off]",
    "  l1_smp: [1, 2, 3, 4]",
    "  l2_smp: [1, 2, 3, 4]",
    `  load: [${values.join(", ")}]`,
    "axis_options:",
    "  load:",
    opts,
    "",
  ].join("\n");
}

/** Plans a large matrix `repeats` times; returns the median seconds and the cell count. */
export function benchPlan(cells: number, repeats: number): { seconds: number; cells: number } {
  const text = largeMatrix(cells);
  const times: number[] = [];
  let count = 0;
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    const plan = expandMatrix(parseMatrix(text, "bench.yaml"));
    times.push((performance.now() - t0) / 1000);
    count = plan.cells.length;
  }
  return { seconds: median(times), cells: count };
}

/** Peak resident memory of this process so far, in MiB (VmHWM), or NaN where unknown. */
export function peakRssMiB(): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(Deno.readTextFileSync("/proc/self/status"));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** Runs the benchmarks. */
export async function runBench(options: { quick: boolean }): Promise<BenchReport> {
  const rows: BenchRow[] = [];
  const repeats = options.quick ? 1 : 5;
  const planCells = options.quick ? 1000 : 10000;
  const plan = benchPlan(planCells, repeats);
  rows.push({
    name: `plan of a ${plan.cells}-cell matrix (parse, validate, expand)`,
    value: plan.seconds,
    unit: "s",
    detail: `median of ${repeats}`,
  });
  rows.push({ name: "peak memory after planning", value: peakRssMiB(), unit: "MiB" });

  const runs = options.quick ? 20 : 365;
  const cells = options.quick ? 20 : 100;
  const d = await benchDashboard({ runs, cells, repeats: options.quick ? 1 : 3 });
  const renderTarget = options.quick ? undefined : 5;
  rows.push({
    name: `dashboard of ${d.history.runs} runs x ${d.history.cells} cells (build)`,
    value: d.render.bestSeconds,
    unit: "s",
    target: renderTarget ? `< ${renderTarget} s` : undefined,
    met: renderTarget ? d.render.bestSeconds < renderTarget : undefined,
    detail: `best of ${d.render.seconds.length}; ${d.render.pages} pages, index ${
      Math.round(d.render.indexBytes / 1024)
    } KiB`,
  });
  if (d.open) {
    rows.push({
      name: "dashboard index opens in Chromium (cold, to load event)",
      value: d.open.coldSeconds,
      unit: "s",
      target: options.quick ? undefined : "< 1 s",
      met: options.quick ? undefined : d.open.coldSeconds < 1,
      detail: `warm median ${d.open.medianWarmSeconds.toFixed(3)} s`,
    });
  } else {
    rows.push({
      name: "dashboard index opens in Chromium",
      value: NaN,
      unit: "s",
      detail: `not measured: ${d.openSkipped ?? "browser not asked for"}`,
    });
  }
  rows.push({ name: "peak memory of the bench process", value: peakRssMiB(), unit: "MiB" });
  return {
    date: new Date().toISOString(),
    quick: options.quick,
    machine: {
      cores: String(navigator.hardwareConcurrency),
      deno: Deno.version.deno,
      os: `${Deno.build.os} ${Deno.build.arch}`,
    },
    rows,
  };
}

/** The Markdown table of a report. */
export function benchMarkdown(r: BenchReport): string {
  const fmt = (v: number) => (Number.isNaN(v) ? "n/a" : v < 10 ? v.toFixed(3) : v.toFixed(1));
  const lines = [
    `Measured ${r.date}${r.quick ? " (quick mode)" : ""} on ${r.machine.cores} cores, ` +
    `Deno ${r.machine.deno}, ${r.machine.os}.`,
    "",
    "| benchmark | value | target | detail |",
    "| --- | --- | --- | --- |",
    ...r.rows.map((row) =>
      `| ${row.name} | ${fmt(row.value)} ${row.unit} | ${
        row.target ? `${row.target} ${row.met ? "(met)" : "(missed)"}` : ""
      } | ${row.detail ?? ""} |`
    ),
  ];
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

/** Writes bench/results.json and BENCHMARKS.md under `repo`. */
export async function writeBench(repo: string, r: BenchReport): Promise<void> {
  await Deno.mkdir(`${repo}/bench`, { recursive: true });
  await writeFileAtomic(`${repo}/bench/results.json`, JSON.stringify(r, null, 2) + "\n");
  const md = await Deno.readTextFile(`${repo}/BENCHMARKS.md`).catch(() => "");
  await writeFileAtomic(`${repo}/BENCHMARKS.md`, updateBenchmarksMd(md, benchMarkdown(r)));
}
