/**
 * The run directory: `<root>/<run-id>/` with `run.json` (the {@linkcode RunRecord}), one
 * `cells/<cell-id>/` directory of logs per cell, and `junit.xml`.
 *
 * run.json is rewritten atomically after every cell, so a crash or Ctrl-C loses at most the
 * cell in progress, and `--resume` re-runs exactly the planned cells that have no result yet.
 * The schema is documented in docs/results.md.
 *
 * @module
 */

import { basename, dirname, join } from "node:path";
import type { CellResult, Outcome } from "./types.ts";
import type { RunnerTimes } from "./run_time.ts";

/** Value of `RunRecord.schema`. */
export const RUN_SCHEMA = "vtcio-run/1";

/** State of a run in run.json. */
export type RunStatus = "running" | "complete" | "interrupted";

/** Contents of run.json. */
export interface RunRecord {
  schema: typeof RUN_SCHEMA;
  run_id: string;
  matrix: { file: string; name: string; sha256: string };
  status: RunStatus;
  /** ISO 8601 time the run was created. */
  started: string;
  /** ISO 8601 time of the last `finish`. */
  finished?: string;
  /** Facts about the host (CPU vendor, nested KVM, QEMU path...). */
  host: Record<string, string>;
  /** Versions of the tools used (QEMU, gcc, deno, vtcio commit...). */
  versions: Record<string, string>;
  /** Ids of every cell the run is meant to produce, in plan order. */
  planned: string[];
  /** Command-line arguments the run was started with. */
  argv: string[];
  /** Each time the run was resumed: when, and with which arguments. */
  resumes?: Array<{ at: string; argv: string[] }>;
  /** Finished cells, in the order they finished; one entry per cell id. */
  cells: CellResult[];
  /** Set when this run is one shard of a run split across machines (`--shard K/N`). */
  shard?: RunShard;
  /** Set on a run made by merging shards (see lib/history.ts): where its parts came from. */
  merged?: MergeInfo;
  /**
   * Where the wall time of the process that finished the run went (QEMU, compilers, the
   * runner's own overhead); set when the run finishes.
   */
  runner?: RunnerTimes;
}

/** Which part of a sharded run a run is: shard `index` of `count`, all sharing `group`. */
export interface RunShard {
  index: number;
  count: number;
  /** Same for every shard of one run: `--run-group`, else derived from the matrix and date. */
  group: string;
}

/** One run merged into a merged run: its own facts, kept as they were. */
export interface MergedPart {
  run_id: string;
  shard?: RunShard;
  status: RunStatus;
  started: string;
  finished?: string;
  host: Record<string, string>;
  versions: Record<string, string>;
  argv: string[];
  /** Where the part's wall time went, when it recorded it. */
  runner?: RunnerTimes;
  /** Ids of the cells whose result in the merged run comes from this part. */
  cells: string[];
}

/** A cell with results in two or more parts: which one was kept. */
export interface MergeConflict {
  id: string;
  kept: { run_id: string; outcome: Outcome; finished: string };
  dropped: Array<{ run_id: string; outcome: Outcome; finished: string }>;
}

/** What a merged run was made of. */
export interface MergeInfo {
  /** The shards' run group, when they had one. */
  group?: string;
  /** The shards' count, when they had one. */
  count?: number;
  /** The merged runs, by shard index then run id. */
  parts: MergedPart[];
  /** Shard indexes from 1 to count with no run merged in. */
  missing: number[];
  conflicts: MergeConflict[];
}

/** What {@linkcode RunStore.create} needs; the rest of the record is filled in. */
export type RunInit = Omit<RunRecord, "schema" | "run_id" | "status" | "started" | "cells"> & {
  run_id?: string;
  started?: string;
};

/**
 * Writes a file so that readers see either the old or the new content, never a mix: write a
 * temporary file in the same directory, fsync it, rename it over the target, fsync the
 * directory.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const dir = dirname(path);
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const temp = await Deno.makeTempFile({ dir, prefix: `.${basename(path)}.`, suffix: ".tmp" });
  try {
    const file = await Deno.open(temp, { write: true, truncate: true });
    try {
      let written = 0;
      while (written < bytes.length) written += await file.write(bytes.subarray(written));
      await file.sync();
    } finally {
      file.close();
    }
    await Deno.rename(temp, path);
  } catch (error) {
    await Deno.remove(temp).catch(() => {});
    throw error;
  }
  await syncDirectory(dir);
}

async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await Deno.open(dir, { read: true });
    try {
      await handle.sync();
    } finally {
      handle.close();
    }
  } catch {
    // Not every platform lets a directory be opened or synced; the rename is still atomic.
  }
}

/** A new run id: UTC time to the second, sortable, then 4 random hex digits. */
export function newRunId(now: Date = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  const random = crypto.getRandomValues(new Uint8Array(2));
  return `${stamp}-${Array.from(random, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

const RUN_ID = /^\d{8}T\d{6}Z-[0-9a-f]{4}$/;

/** Whether a string is a run id made by {@linkcode newRunId}. */
export function isRunId(value: string): boolean {
  return RUN_ID.test(value);
}

/** Run ids found under a results root, oldest first. */
export async function listRuns(root: string): Promise<string[]> {
  const ids: string[] = [];
  try {
    for await (const entry of Deno.readDir(root)) {
      if (entry.isDirectory && isRunId(entry.name)) ids.push(entry.name);
    }
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
  return ids.sort();
}

/** Reads and checks a run.json. */
export async function readRunRecord(path: string): Promise<RunRecord> {
  const record: unknown = JSON.parse(await Deno.readTextFile(path));
  if (!isRecord(record) || record.schema !== RUN_SCHEMA) {
    const found = isRecord(record) ? String(record.schema) : typeof record;
    throw new Error(`${path} is not a ${RUN_SCHEMA} record (schema: ${found})`);
  }
  for (const key of ["run_id", "status", "started"] as const) {
    if (typeof record[key] !== "string") throw new Error(`${path} has no ${key}`);
  }
  for (const key of ["planned", "argv", "cells"] as const) {
    if (!Array.isArray(record[key])) throw new Error(`${path} has no ${key} list`);
  }
  return record as unknown as RunRecord;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function checkCellId(id: string): void {
  if (id === "" || id === "." || id === ".." || /[/\\\0]/.test(id)) {
    throw new Error(`Cell id ${JSON.stringify(id)} cannot name a directory`);
  }
}

/** One run directory and its run.json. */
export class RunStore {
  /** The run directory, `<root>/<run-id>`. */
  readonly dir: string;
  #record: RunRecord;
  #queue: Promise<void> = Promise.resolve();

  private constructor(dir: string, record: RunRecord) {
    this.dir = dir;
    this.#record = record;
  }

  /** Creates `<root>/<run-id>/` (a fresh id unless `init.run_id` is given) and its run.json. */
  static async create(root: string, init: RunInit): Promise<RunStore> {
    await Deno.mkdir(root, { recursive: true });
    let runId = init.run_id ?? newRunId();
    for (let attempt = 0;; attempt++) {
      try {
        await Deno.mkdir(join(root, runId));
        break;
      } catch (error) {
        if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
        if (init.run_id !== undefined) throw new Error(`Run ${runId} already exists in ${root}`);
        if (attempt >= 20) throw new Error(`Could not find a free run id in ${root}`);
        runId = newRunId();
      }
    }
    const { run_id: _id, started, ...rest } = init;
    const record: RunRecord = {
      schema: RUN_SCHEMA,
      run_id: runId,
      status: "running",
      started: started ?? new Date().toISOString(),
      ...rest,
      cells: [],
    };
    const store = new RunStore(join(root, runId), record);
    await Deno.mkdir(join(store.dir, "cells"), { recursive: true });
    await store.save();
    return store;
  }

  /**
   * Opens an existing run to resume it: finished cells are kept, {@linkcode pending} lists the
   * planned cells still to run. The status goes back to "running" and the resume is recorded.
   */
  static async open(root: string, runId: string, argv?: string[]): Promise<RunStore> {
    const dir = join(root, runId);
    const record = await readRunRecord(join(dir, "run.json"));
    if (record.run_id !== runId) {
      throw new Error(`${join(dir, "run.json")} belongs to run ${record.run_id}, not ${runId}`);
    }
    record.status = "running";
    delete record.finished;
    record.resumes = [
      ...(record.resumes ?? []),
      { at: new Date().toISOString(), argv: argv ?? record.argv },
    ];
    const store = new RunStore(dir, record);
    await Deno.mkdir(join(dir, "cells"), { recursive: true });
    await store.save();
    return store;
  }

  /** The record as last saved or changed; do not modify it. */
  get record(): Readonly<RunRecord> {
    return this.#record;
  }

  get runId(): string {
    return this.#record.run_id;
  }

  /** Path of run.json. */
  get runJsonPath(): string {
    return join(this.dir, "run.json");
  }

  /** Path of junit.xml. */
  get junitPath(): string {
    return join(this.dir, "junit.xml");
  }

  /** Planned cell ids without a result yet, in plan order. */
  pending(): string[] {
    const done = new Set(this.#record.cells.map((c) => c.id));
    return this.#record.planned.filter((id) => !done.has(id));
  }

  /** The result recorded for a cell, if any. */
  result(id: string): CellResult | undefined {
    return this.#record.cells.find((c) => c.id === id);
  }

  /** `<run dir>/cells/<id>`, created if missing. Log paths in CellResult are relative to dir. */
  cellDir(id: string): string {
    checkCellId(id);
    const path = join(this.dir, "cells", id);
    Deno.mkdirSync(path, { recursive: true });
    return path;
  }

  /** Empties a cell's directory (before re-running a cell left unfinished by a resumed run). */
  async clearCellDir(id: string): Promise<string> {
    checkCellId(id);
    const path = join(this.dir, "cells", id);
    await Deno.remove(path, { recursive: true }).catch((error) => {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    });
    await Deno.mkdir(path, { recursive: true });
    return path;
  }

  /** Records (or replaces) a cell's result and rewrites run.json. */
  recordCell(result: CellResult): Promise<void> {
    const cells = this.#record.cells.filter((c) => c.id !== result.id);
    cells.push(result);
    this.#record = { ...this.#record, cells };
    return this.save();
  }

  /** Marks the run complete or interrupted (with `runner` times, if given), rewrites run.json. */
  finish(status: Exclude<RunStatus, "running">, runner?: RunnerTimes): Promise<void> {
    this.#record = {
      ...this.#record,
      status,
      finished: new Date().toISOString(),
      ...(runner ? { runner } : {}),
    };
    return this.save();
  }

  /** Rewrites run.json from the current record; writes are serialised, latest state wins. */
  save(): Promise<void> {
    const write = async () => {
      await writeFileAtomic(this.runJsonPath, `${JSON.stringify(this.#record, null, 2)}\n`);
    };
    const next = this.#queue.then(write, write);
    this.#queue = next.catch(() => {});
    return next;
  }
}
