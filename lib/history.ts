/**
 * The history store: a results root with one directory per run (`<root>/<run-id>/run.json`),
 * read as a list of runs oldest first, with the shards of one run combined into one.
 *
 * - {@linkcode loadHistory} reads every run (or the latest few), skipping with a warning the
 *   directories that are not (yet) readable runs.
 * - {@linkcode mergeShards} combines the records of the shards of one run; {@linkcode mergeRunDirs}
 *   also copies their cell directories into a new run directory.
 *
 * Layout and rules: docs/history.md.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { join } from "node:path";
import { toJunitXml } from "./junit.ts";
import type { Shard } from "./plan.ts";
import {
  isRunId,
  listRuns,
  type MergeConflict,
  type MergedPart,
  readRunRecord,
  RUN_SCHEMA,
  type RunRecord,
  type RunShard,
  type RunStatus,
  writeFileAtomic,
} from "./results.ts";
import type { CellResult } from "./types.ts";

/** One run of the history: a run directory, or the shards of one run combined. */
export interface HistoryRun {
  /** The run id (for shards combined in memory, the id {@linkcode mergeShards} gives them). */
  id: string;
  record: RunRecord;
  /** The run directory (for shards combined in memory, the first shard's). */
  dir: string;
  /** Directory each cell's log paths are relative to, by cell id. */
  cellRunDirs: Record<string, string>;
}

/** What {@linkcode loadHistory} found. */
export interface History {
  root: string;
  /** Runs sorted by id, oldest first. */
  runs: HistoryRun[];
  /** Directories skipped and shards combined, one line each. */
  warnings: string[];
}

/** Options of {@linkcode loadHistory}. */
export interface LoadHistoryOptions {
  /** Keep only the latest this many runs (all when absent). */
  limit?: number;
  /** Run directories read at once (default 8). */
  concurrency?: number;
}

const GROUP = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/** Whether a string can be a run group (letters, digits, `.`, `_`, `-`; at most 100). */
export function isRunGroup(value: string): boolean {
  return GROUP.test(value);
}

/**
 * The run group of shards started without `--run-group`: `<yyyymmdd>-<first 12 hex digits of
 * the matrix sha256>`, so shards of one matrix started on the same UTC day share it.
 */
export function deriveRunGroup(matrixSha256: string, now: Date = new Date()): string {
  const day = now.toISOString().slice(0, 10).replace(/-/g, "");
  return `${day}-${matrixSha256.slice(0, 12).toLowerCase()}`;
}

/**
 * The `shard` field of a shard's run.json.
 *
 * @throws {Error} for a group that {@linkcode isRunGroup} refuses
 */
export function runShard(
  shard: Shard,
  options: { group?: string; matrixSha256: string; now?: Date },
): RunShard {
  const group = options.group ?? deriveRunGroup(options.matrixSha256, options.now);
  if (!isRunGroup(group)) {
    throw new Error(
      `Invalid run group "${group}": use letters, digits, ".", "_" and "-" (at most 100)`,
    );
  }
  return { index: shard.index, count: shard.count, group };
}

/**
 * Reads the runs under a results root, sorted by id. Shards of one run group are combined
 * with {@linkcode mergeShards}, unless a merged run of them is in the root too, in which case
 * the shards are left out. Directories that cannot be read (no run.json yet, a half-written
 * or foreign one) are skipped with a warning.
 */
export async function loadHistory(
  root: string,
  options: LoadHistoryOptions = {},
): Promise<History> {
  const warnings: string[] = [];
  const ids = await listRuns(root);
  const limit = options.limit ?? Infinity;
  const concurrency = Math.max(1, options.concurrency ?? 8);
  const records = new Map<string, RunRecord>();

  // Newest first, in batches, until `limit` runs are certain (shards may cost a few extra reads).
  let next = ids.length - 1;
  while (next >= 0) {
    const batch = ids.slice(Math.max(0, next - concurrency + 1), next + 1);
    next -= batch.length;
    const read = await Promise.all(batch.map((id) => readRun(root, id)));
    for (const [i, outcome] of read.entries()) {
      if (typeof outcome === "string") warnings.push(outcome);
      else records.set(batch[i], outcome);
    }
    if (countLogical([...records.values()]) > limit) break;
  }

  const runs = combine(root, records, warnings);
  runs.sort((a, b) => compare(a.id, b.id));
  return { root, runs: runs.slice(Math.max(0, runs.length - limit)), warnings };
}

async function readRun(root: string, id: string): Promise<RunRecord | string> {
  const path = join(root, id, "run.json");
  try {
    const record = await readRunRecord(path);
    if (record.run_id !== id) return `Skipped ${id}: its run.json belongs to run ${record.run_id}`;
    return record;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return `Skipped ${id}: no run.json (yet)`;
    const message = error instanceof Error ? error.message : String(error);
    return `Skipped ${id}: ${message}`;
  }
}

/** How many runs some records make once shards are grouped (an upper bound is enough). */
function countLogical(records: RunRecord[]): number {
  const keys = new Set<string>();
  for (const record of records) {
    keys.add(record.shard ? `group:${record.shard.group}` : `run:${record.run_id}`);
  }
  return keys.size;
}

function combine(root: string, records: Map<string, RunRecord>, warnings: string[]): HistoryRun[] {
  const mergedAway = new Set<string>();
  for (const record of records.values()) {
    for (const part of record.merged?.parts ?? []) mergedAway.add(part.run_id);
  }
  const runs: HistoryRun[] = [];
  const groups = new Map<string, RunRecord[]>();
  for (const [id, record] of records) {
    if (mergedAway.has(id)) continue;
    if (record.shard === undefined) {
      runs.push(single(join(root, id), record));
      continue;
    }
    const key = `${record.shard.group}\0${record.matrix.sha256}`;
    groups.set(key, [...(groups.get(key) ?? []), record]);
  }
  for (const shards of groups.values()) {
    if (shards.length === 1 && shards[0].shard?.count === 1) {
      runs.push(single(join(root, shards[0].run_id), shards[0]));
      continue;
    }
    let merged: RunRecord;
    try {
      merged = mergeShards(shards);
    } catch (error) {
      // Cannot happen for records grouped by group and matrix, except for mixed shard counts.
      warnings.push(`Shards ${shards.map((s) => s.run_id).join(", ")} not combined: ${error}`);
      for (const shard of shards) runs.push(single(join(root, shard.run_id), shard));
      continue;
    }
    const info = merged.merged!;
    const dirOf = new Map(info.parts.map((p) => [p.run_id, join(root, p.run_id)]));
    const cellRunDirs: Record<string, string> = {};
    for (const part of info.parts) {
      for (const cell of part.cells) cellRunDirs[cell] = dirOf.get(part.run_id)!;
    }
    const missing = info.missing.length > 0 ? `, shards ${info.missing.join(", ")} missing` : "";
    warnings.push(
      `Combined the ${shards.length} shard(s) of run group ${info.group} as run ${merged.run_id}` +
        ` (not merged on disk${missing})`,
    );
    runs.push({
      id: merged.run_id,
      record: merged,
      dir: dirOf.get(info.parts[0].run_id)!,
      cellRunDirs,
    });
  }
  return runs;
}

function single(dir: string, record: RunRecord): HistoryRun {
  const cellRunDirs: Record<string, string> = {};
  for (const cell of record.cells) cellRunDirs[cell.id] = dir;
  return { id: record.run_id, record, dir, cellRunDirs };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The id of the run merged from some runs: the earliest run's time stamp and 4 hex digits of a
 * hash of all their ids, so merging the same runs again gives the same id.
 */
export function mergedRunId(runIds: readonly string[]): string {
  const sorted = [...new Set(runIds)].sort();
  if (sorted.length === 0) throw new Error("Cannot name a merge of no runs");
  const hash = createHash("sha256").update(sorted.join("\n")).digest("hex").slice(0, 4);
  const first = sorted.find(isRunId) ?? sorted[0];
  const stamp = isRunId(first) ? first.slice(0, 16) : "19700101T000000Z";
  return `${stamp}-${hash}`;
}

/**
 * Combines the shards of one run into one record:
 *
 * - all must have the same matrix sha256, and those with a `shard` the same group and count;
 * - `planned` is the union, in plan order (shards are interleaved back as `--shard` split them);
 * - `cells` is the union, in plan order; a cell with results in two shards (a shard run twice)
 *   keeps the one that finished last (ties: the larger run id), and the others are listed in
 *   `merged.conflicts`;
 * - `host` and `versions` keep the facts all shards agree on; each shard's own facts are in
 *   `merged.parts`;
 * - `status` is `running` while a shard runs, `complete` when every shard is complete and none
 *   is missing, else `interrupted`.
 *
 * The same records in any order give the same result.
 *
 * @throws {Error} for no records, different matrices, groups or shard counts
 */
export function mergeShards(records: RunRecord[]): RunRecord {
  if (records.length === 0) throw new Error("No runs to merge");
  const byId = new Map<string, RunRecord>();
  for (const record of records) byId.set(record.run_id, record);
  const parts = [...byId.values()].sort((a, b) =>
    (a.shard?.index ?? Infinity) - (b.shard?.index ?? Infinity) || compare(a.run_id, b.run_id)
  );

  const sha = new Set(parts.map((p) => p.matrix.sha256));
  if (sha.size > 1) {
    throw new Error(
      `Runs ${parts.map((p) => p.run_id).join(", ")} are of different matrices (sha256 ${
        [...sha].map((s) => s.slice(0, 12)).join(", ")
      }): only shards of one run can be merged`,
    );
  }
  const sharded = parts.filter((p) => p.shard !== undefined);
  const groups = new Set(sharded.map((p) => p.shard!.group));
  if (groups.size > 1) {
    throw new Error(`Runs belong to different run groups (${[...groups].join(", ")})`);
  }
  const counts = new Set(sharded.map((p) => p.shard!.count));
  if (counts.size > 1) {
    throw new Error(`Runs were split into different shard counts (${[...counts].join(", ")})`);
  }
  const group = sharded[0]?.shard?.group;
  const count = sharded[0]?.shard?.count;

  const planned = mergePlanned(parts, count);
  const { cells, attribution, conflicts } = mergeCells(parts, planned);

  const present = new Set(sharded.map((p) => p.shard!.index));
  const missing: number[] = [];
  if (count !== undefined) {
    for (let i = 1; i <= count; i++) if (!present.has(i)) missing.push(i);
  }
  let status: RunStatus = "complete";
  if (parts.some((p) => p.status === "running")) status = "running";
  else if (parts.some((p) => p.status !== "complete") || missing.length > 0) status = "interrupted";

  const started = parts.map((p) => p.started).sort()[0];
  const finishes = parts.map((p) => p.finished);
  const finished = status === "running" || finishes.some((f) => f === undefined)
    ? undefined
    : (finishes as string[]).sort().at(-1);

  const first = parts[0];
  const merged: RunRecord = {
    schema: RUN_SCHEMA,
    run_id: mergedRunId(parts.map((p) => p.run_id)),
    matrix: { ...first.matrix },
    status,
    started,
    ...(finished === undefined ? {} : { finished }),
    host: common(parts.map((p) => p.host)),
    versions: common(parts.map((p) => p.versions)),
    planned,
    argv: [...first.argv],
    cells,
    merged: {
      ...(group === undefined ? {} : { group }),
      ...(count === undefined ? {} : { count }),
      parts: parts.map((p): MergedPart => ({
        run_id: p.run_id,
        ...(p.shard === undefined ? {} : { shard: { ...p.shard } }),
        status: p.status,
        started: p.started,
        ...(p.finished === undefined ? {} : { finished: p.finished }),
        host: { ...p.host },
        versions: { ...p.versions },
        argv: [...p.argv],
        ...(p.runner === undefined ? {} : { runner: structuredClone(p.runner) }),
        cells: attribution.get(p.run_id) ?? [],
      })),
      missing,
      conflicts,
    },
  };
  return merged;
}

/** Planned ids in plan order: shard K holds positions K, K+N... so interleave them back. */
function mergePlanned(parts: RunRecord[], count: number | undefined): string[] {
  const indexes = parts.map((p) => p.shard?.index);
  const interleave = count !== undefined && indexes.every((i) => i !== undefined) &&
    new Set(indexes).size === indexes.length;
  const out: string[] = [];
  const seen = new Set<string>();
  const add = (id: string) => {
    if (!seen.has(id)) {
      seen.add(id);
      out.push(id);
    }
  };
  if (interleave) {
    const longest = Math.max(...parts.map((p) => p.planned.length));
    for (let row = 0; row < longest; row++) {
      for (const part of parts) if (row < part.planned.length) add(part.planned[row]);
    }
  } else {
    for (const part of parts) part.planned.forEach(add);
  }
  for (const part of parts) for (const cell of part.cells) add(cell.id);
  return out;
}

function mergeCells(parts: RunRecord[], planned: string[]) {
  const candidates = new Map<string, Array<{ run_id: string; result: CellResult }>>();
  for (const part of parts) {
    for (const result of part.cells) {
      candidates.set(result.id, [
        ...(candidates.get(result.id) ?? []),
        { run_id: part.run_id, result },
      ]);
    }
  }
  const attribution = new Map<string, string[]>();
  const conflicts: MergeConflict[] = [];
  const cells: CellResult[] = [];
  for (const id of planned) {
    const options = candidates.get(id);
    if (options === undefined) continue;
    // Latest finish first; ties by run id, then by outcome, so input order never matters.
    const ranked = [...options].sort((a, b) =>
      compare(b.result.finished, a.result.finished) || compare(b.run_id, a.run_id) ||
      compare(a.result.outcome, b.result.outcome)
    );
    const kept = ranked[0];
    cells.push(kept.result);
    attribution.set(kept.run_id, [...(attribution.get(kept.run_id) ?? []), id]);
    if (ranked.length > 1) {
      const brief = (c: { run_id: string; result: CellResult }) => ({
        run_id: c.run_id,
        outcome: c.result.outcome,
        finished: c.result.finished,
      });
      conflicts.push({ id, kept: brief(kept), dropped: ranked.slice(1).map(brief) });
    }
  }
  return { cells, attribution, conflicts };
}

/** The entries every map has with the same value. */
function common(maps: Record<string, string>[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(maps[0] ?? {})) {
    if (maps.every((m) => m[key] === value)) out[key] = value;
  }
  return out;
}

/** Where {@linkcode mergeRunDirs} put the merged run. */
export interface MergedRun {
  dir: string;
  record: RunRecord;
}

/**
 * Merges shard run directories into a new run directory under `outRoot`: the record made by
 * {@linkcode mergeShards} as run.json, junit.xml, and each cell's directory from the shard whose
 * result was kept (from the shard that planned it, for cells without a result). Files are
 * hard-linked when possible, else copied. The run is assembled in a hidden directory then renamed,
 * so a reader never sees half of it; merging the same shards again replaces it.
 *
 * @throws {Error} if a directory has no readable run.json, the runs cannot be merged, or the
 * merged id is taken by another run
 */
export async function mergeRunDirs(dirs: string[], outRoot: string): Promise<MergedRun> {
  if (dirs.length === 0) throw new Error("No run directories to merge");
  const dirOf = new Map<string, string>();
  const records: RunRecord[] = [];
  for (const dir of dirs) {
    const record = await readRunRecord(join(dir, "run.json"));
    const known = dirOf.get(record.run_id);
    if (known !== undefined && known !== dir) {
      throw new Error(`Run ${record.run_id} is both in ${known} and ${dir}`);
    }
    dirOf.set(record.run_id, dir);
    records.push(record);
  }
  const record = mergeShards(records);
  await Deno.mkdir(outRoot, { recursive: true });
  const target = join(outRoot, record.run_id);
  if (dirs.some((d) => samePath(d, target))) {
    throw new Error(`The merged run ${record.run_id} would replace one of its shards`);
  }
  const existing = await readRunRecord(join(target, "run.json")).catch(() => undefined);
  if (existing !== undefined) {
    const same = sameParts(existing, record);
    if (!same) throw new Error(`${target} already holds another run`);
  } else if (await exists(target)) {
    throw new Error(`${target} already exists and holds no run.json`);
  }

  const temp = await Deno.makeTempDir({ dir: outRoot, prefix: `.merge-${record.run_id}-` });
  try {
    await Deno.mkdir(join(temp, "cells"));
    const taken = new Set<string>();
    for (const part of record.merged!.parts) {
      for (const cell of part.cells) {
        await copyCellDir(dirOf.get(part.run_id)!, temp, cell);
        taken.add(cell);
      }
    }
    for (const part of records) {
      for (const cell of part.planned) {
        if (taken.has(cell)) continue;
        if (await copyCellDir(dirOf.get(part.run_id)!, temp, cell)) taken.add(cell);
      }
    }
    await writeFileAtomic(join(temp, "run.json"), `${JSON.stringify(record, null, 2)}\n`);
    await writeFileAtomic(join(temp, "junit.xml"), toJunitXml(record.cells));
    if (existing !== undefined) await Deno.remove(target, { recursive: true });
    await Deno.rename(temp, target);
  } catch (error) {
    await Deno.remove(temp, { recursive: true }).catch(() => {});
    throw error;
  }
  return { dir: target, record };
}

function sameParts(a: RunRecord, b: RunRecord): boolean {
  const ids = (r: RunRecord) => (r.merged?.parts ?? []).map((p) => p.run_id).sort().join(",");
  return a.merged !== undefined && ids(a) === ids(b);
}

function samePath(a: string, b: string): boolean {
  try {
    return Deno.realPathSync(a) === Deno.realPathSync(b);
  } catch {
    return false;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** Copies `<from>/cells/<id>` into `<to>/cells/<id>`; false when there is none. */
async function copyCellDir(from: string, to: string, id: string): Promise<boolean> {
  if (id === "" || id === "." || id === ".." || /[/\\\0]/.test(id)) return false;
  const source = join(from, "cells", id);
  if (!(await exists(source))) return false;
  await copyTree(source, join(to, "cells", id));
  return true;
}

/** Copies a directory tree, hard-linking files when the file system allows it. */
export async function copyTree(source: string, target: string): Promise<void> {
  await Deno.mkdir(target, { recursive: true });
  for await (const entry of Deno.readDir(source)) {
    const from = join(source, entry.name);
    const to = join(target, entry.name);
    if (entry.isDirectory) {
      await copyTree(from, to);
    } else if (entry.isFile) {
      try {
        await Deno.link(from, to);
      } catch {
        await Deno.copyFile(from, to);
      }
    } else if (entry.isSymlink) {
      await Deno.symlink(await Deno.readLink(from), to);
    }
  }
}
