/**
 * The paravirtual path against its alternatives, for the bench command: the "# vtcio-bench:"
 * lines tcio-bench prints in the bench-pv scenario (matrix/bench.yaml) are read back from each
 * boot's KTAP diagnostics, then summarised over boots: medians of each path's figures, and the
 * ratios of the paths measured side by side in one boot, whose median over boots is reported.
 *
 * Paths: (a) `ktciodd0`, a guest client through ktcioDD to tcService in L1; (b) `tcioDD0`, a host
 * client in L1 through tcioDD; (c) `vsock`, the guest through virtio-vsock to an echo service in
 * L1's userspace.
 *
 * @module
 */

import type { RunRecord } from "./results.ts";
import { median } from "./bench_scale.ts";

/** One measurement: one path, payload size and number of clients, in one boot. */
export interface PvSample {
  path: string;
  size: number;
  clients: number;
  requests: number;
  errors: number;
  seconds: number;
  rps: number;
  mbps: number;
  p50_us: number;
  p99_us: number;
}

const NUMERIC = [
  "size",
  "clients",
  "requests",
  "errors",
  "seconds",
  "rps",
  "mbps",
  "p50_us",
  "p99_us",
] as const;

/** Parses a "vtcio-bench: key=value ..." line (a KTAP diagnostic); undefined for other lines. */
export function parsePvLine(line: string): PvSample | undefined {
  const at = line.indexOf("vtcio-bench: ");
  if (at < 0) return undefined;
  const fields = new Map<string, string>();
  for (const word of line.slice(at + 13).trim().split(/\s+/)) {
    const eq = word.indexOf("=");
    if (eq > 0) fields.set(word.slice(0, eq), word.slice(eq + 1));
  }
  const path = fields.get("path");
  if (!path) return undefined;
  const out: Record<string, number | string> = { path };
  for (const k of NUMERIC) {
    const v = Number(fields.get(k));
    if (fields.get(k) === undefined || !Number.isFinite(v)) return undefined;
    out[k] = v;
  }
  return out as unknown as PvSample;
}

/** The measurements of one boot: every cell of a bench run, its tests' diagnostics. */
export function pvSamples(record: RunRecord): PvSample[] {
  const out: PvSample[] = [];
  for (const cell of record.cells) {
    for (const t of cell.tests) {
      for (const d of t.diagnostics) {
        const s = parsePvLine(d);
        if (s) out.push(s);
      }
    }
  }
  return out;
}

/** The paths by their tcio-bench names, with what they are. */
export const PV_PATHS: Record<string, string> = {
  ktciodd0: "(a) guest -> ktcioDD -> tcService",
  tcioDD0: "(b) L1 client -> tcioDD -> tcService",
  vsock: "(c) guest -> virtio-vsock -> echo in L1",
};

/** Medians over boots of one path, size and client count. */
export interface PvPoint {
  path: string;
  size: number;
  clients: number;
  boots: number;
  p50_us: number;
  p99_us: number;
  rps: number;
  mbps: number;
  /** Measurements with client errors, over all boots. */
  failed: number;
}

/** A ratio of two paths measured in the same boots: the median over boots of each boot's ratio. */
export interface PvRatio {
  /** Numerator and denominator paths. */
  of: string;
  to: string;
  size: number;
  clients: number;
  boots: number;
  /** p50 latency of `of` over that of `to` (above 1: `of` is slower). */
  latency: number;
  /** Requests per second of `of` over those of `to` (below 1: `of` is slower). */
  throughput: number;
}

const key = (s: { path: string; size: number; clients: number }) =>
  `${s.path}\0${s.size}\0${s.clients}`;

/** Summarises boots (each the samples of one boot) into medians and side-by-side ratios. */
export function summarizePv(
  boots: PvSample[][],
  ratios: Array<[string, string]> = [["ktciodd0", "vsock"], ["tcioDD0", "vsock"]],
): { points: PvPoint[]; ratios: PvRatio[] } {
  const groups = new Map<string, PvSample[]>();
  for (const boot of boots) {
    for (const s of boot) {
      const k = key(s);
      groups.set(k, [...(groups.get(k) ?? []), s]);
    }
  }
  const points: PvPoint[] = [];
  for (const samples of groups.values()) {
    const ok = samples.filter((s) => s.errors === 0 && s.requests > 0);
    const { path, size, clients } = samples[0];
    const med = (f: (s: PvSample) => number) => ok.length ? median(ok.map(f)) : NaN;
    points.push({
      path,
      size,
      clients,
      boots: ok.length,
      p50_us: med((s) => s.p50_us),
      p99_us: med((s) => s.p99_us),
      rps: med((s) => s.rps),
      mbps: med((s) => s.mbps),
      failed: samples.length - ok.length,
    });
  }
  const order = Object.keys(PV_PATHS);
  points.sort((a, b) =>
    a.size - b.size || a.clients - b.clients || order.indexOf(a.path) - order.indexOf(b.path)
  );
  const out: PvRatio[] = [];
  for (const [of, to] of ratios) {
    const pairs = new Map<string, Array<{ latency: number; throughput: number }>>();
    for (const boot of boots) {
      const byKey = new Map(boot.map((s) => [key(s), s]));
      for (const a of boot.filter((s) => s.path === of && s.errors === 0)) {
        const b = byKey.get(key({ ...a, path: to }));
        if (!b || b.errors !== 0 || b.p50_us <= 0 || b.rps <= 0) continue;
        const k = `${a.size}\0${a.clients}`;
        pairs.set(k, [...(pairs.get(k) ?? []), {
          latency: a.p50_us / b.p50_us,
          throughput: a.rps / b.rps,
        }]);
      }
    }
    for (const [k, v] of pairs) {
      const [size, clients] = k.split("\0").map(Number);
      out.push({
        of,
        to,
        size,
        clients,
        boots: v.length,
        latency: median(v.map((x) => x.latency)),
        throughput: median(v.map((x) => x.throughput)),
      });
    }
  }
  out.sort((a, b) => a.of.localeCompare(b.of) || a.size - b.size || a.clients - b.clients);
  return { points, ratios: out };
}
