/**
 * The nightly run on one machine (`./vtcio nightly`): the nightly matrix as N shards, one after
 * the other, each a `matrix run --shard K/N --run-group G` of the CLI writing into its own
 * results root; then the shards merged into one run of the history store, and the dashboard
 * rebuilt. CI does the same with one machine per shard (.github/workflows/nightly.yml).
 *
 * ```
 * results/shards/<group>/<run-id>/   one run per shard (kept: `--resume` works on them)
 * results/<merged-run-id>/           the merged run, what the history and dashboard read
 * site/                              the dashboard
 * ```
 *
 * @module
 */

import { join } from "node:path";
import { buildDashboard, type DashboardOptions, type DashboardSummary } from "./dashboard.ts";
import { isRunGroup, type MergedRun, mergeRunDirs } from "./history.ts";
import { listRuns, readRunRecord } from "./results.ts";

/** Runs one shard: the CLI with `args`, extra environment `env`; resolves to its exit code. */
export type ShardRunner = (
  args: string[],
  env: Record<string, string>,
  signal?: AbortSignal,
) => Promise<number>;

/** Options of {@linkcode runNightly}. */
export interface NightlyOptions {
  /** Repository root: where lib/cli.ts and the matrix are. */
  repo: string;
  /** Matrix file, relative to the repository (default "matrix/nightly.yaml"). */
  matrix?: string;
  /** Number of shards, run one after the other (default 1). */
  shards?: number;
  /** Run group of the shards (default "nightly-<UTC time>"). */
  group?: string;
  /** The history store the merged run goes to (default `<repo>/results`). */
  historyRoot?: string;
  /** Where the dashboard is built; false for none (default `<repo>/site`). */
  siteDir?: string | false;
  /** Arguments added to every shard's `matrix run` (default `["--retry", "1"]`). */
  extraArgs?: string[];
  /** Options of the dashboard. */
  dashboard?: DashboardOptions;
  /** Replaces the CLI, in tests. */
  runShard?: ShardRunner;
  /** Progress lines (default: console.error). */
  log?: (line: string) => void;
  /** Aborted on Ctrl-C: the running shard is stopped, no other starts. */
  signal?: AbortSignal;
  now?: Date;
}

/** How one shard ended. */
export interface ShardOutcome {
  index: number;
  /** Exit code of `matrix run`: 0 all expected, 1 unexpected outcomes, 2 usage, 130/143 stopped. */
  code: number;
}

/** What {@linkcode runNightly} did. */
export interface NightlyResult {
  group: string;
  /** The results root the shards wrote to. */
  shardRoot: string;
  shards: ShardOutcome[];
  merged?: MergedRun;
  dashboard?: DashboardSummary;
  /** One line per problem (a shard that did not finish, no run to merge...). */
  problems: string[];
  /**
   * 0: every shard ran and every cell was expected; 1: unexpected outcomes, or nothing to merge;
   * 2: a shard could not start (usage error); 130 or 143: stopped by a signal.
   */
  exitCode: number;
}

/** The default run group of a nightly: `nightly-<yyyymmddThhmmssZ>`. */
export function nightlyGroup(now: Date = new Date()): string {
  return `nightly-${now.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z")}`;
}

/** Arguments of the CLI for shard `index` of `count`. */
export function shardArgs(
  matrix: string,
  index: number,
  count: number,
  group: string,
  extra: readonly string[] = [],
): string[] {
  return ["matrix", "run", matrix, "--shard", `${index}/${count}`, "--run-group", group, ...extra];
}

/** A {@linkcode ShardRunner} that runs `deno run --allow-all lib/cli.ts` in `repo`. */
export function cliShardRunner(repo: string): ShardRunner {
  return async (args, env, signal) => {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", join(repo, "lib", "cli.ts"), ...args],
      cwd: repo,
      env,
      stdin: "null",
      stdout: "inherit",
      stderr: "inherit",
    }).spawn();
    const stop = () => {
      try {
        child.kill("SIGTERM");
      } catch {
        // Already gone.
      }
    };
    signal?.addEventListener("abort", stop, { once: true });
    try {
      const status = await child.status;
      return status.signal === "SIGTERM" ? 143 : status.signal === "SIGINT" ? 130 : status.code;
    } finally {
      signal?.removeEventListener("abort", stop);
    }
  };
}

/**
 * Runs the nightly: shards 1..N one after the other (a shard with unexpected outcomes does not
 * stop the next; a usage error or a signal does), merges the shard runs into the history store
 * and rebuilds the dashboard, even after a stopped shard, so what ran is published.
 *
 * @throws {Error} for a bad shard count or run group
 */
export async function runNightly(options: NightlyOptions): Promise<NightlyResult> {
  const count = options.shards ?? 1;
  if (!Number.isInteger(count) || count < 1 || count > 256) {
    throw new Error(`The shard count must be a whole number from 1 to 256, not ${count}`);
  }
  const group = options.group ?? nightlyGroup(options.now);
  if (!isRunGroup(group)) {
    throw new Error(
      `Invalid run group "${group}": use letters, digits, ".", "_" and "-" (at most 100)`,
    );
  }
  const matrix = options.matrix ?? "matrix/nightly.yaml";
  const historyRoot = options.historyRoot ?? join(options.repo, "results");
  const shardRoot = join(historyRoot, "shards", group);
  const runShard = options.runShard ?? cliShardRunner(options.repo);
  const log = options.log ?? ((line: string) => console.error(line));
  const extra = options.extraArgs ?? ["--retry", "1"];
  await Deno.mkdir(shardRoot, { recursive: true });

  const shards: ShardOutcome[] = [];
  const problems: string[] = [];
  let exitCode = 0;
  for (let index = 1; index <= count; index++) {
    if (options.signal?.aborted) {
      problems.push(`Shards ${index}..${count} not run: stopped`);
      break;
    }
    const args = shardArgs(matrix, index, count, group, extra);
    log(`nightly: shard ${index}/${count}: ${args.join(" ")}`);
    const code = await runShard(args, { VTCIO_RESULTS: shardRoot }, options.signal);
    shards.push({ index, code });
    log(`nightly: shard ${index}/${count} exited with ${code}`);
    if (code === 0) continue;
    if (code === 1) {
      exitCode = Math.max(exitCode, 1);
      continue;
    }
    const stopped = code === 130 || code === 143;
    problems.push(
      stopped
        ? `Shard ${index}/${count} was stopped (exit ${code})`
        : `Shard ${index}/${count} failed with exit code ${code}`,
    );
    exitCode = stopped ? code : Math.max(exitCode, 2);
    if (index < count) problems.push(`Shards ${index + 1}..${count} not run`);
    break;
  }

  const dirs: string[] = [];
  for (const id of await listRuns(shardRoot)) {
    const dir = join(shardRoot, id);
    const record = await readRunRecord(join(dir, "run.json")).catch(() => undefined);
    if (record === undefined) {
      problems.push(`Run ${id} in ${shardRoot} has no readable run.json: not merged`);
    } else if (record.shard !== undefined && record.shard.group !== group) {
      problems.push(`Run ${id} belongs to run group ${record.shard.group}: not merged`);
    } else {
      dirs.push(dir);
    }
  }

  let merged: MergedRun | undefined;
  if (dirs.length === 0) {
    problems.push(`No shard left a run in ${shardRoot}: nothing to merge`);
    if (exitCode === 0) exitCode = 1;
  } else {
    try {
      merged = await mergeRunDirs(dirs, historyRoot);
      const conflicts = merged.record.merged?.conflicts.length ?? 0;
      log(
        `nightly: merged ${dirs.length} shard run(s) into ${merged.dir}` +
          (conflicts > 0 ? ` (${conflicts} conflict(s), see run.json merged.conflicts)` : ""),
      );
      const missing = merged.record.merged?.missing ?? [];
      if (missing.length > 0) problems.push(`Shards ${missing.join(", ")} left no run`);
    } catch (error) {
      problems.push(`Merge failed: ${error instanceof Error ? error.message : error}`);
      if (exitCode === 0) exitCode = 1;
    }
  }

  let dashboard: DashboardSummary | undefined;
  const siteDir = options.siteDir ?? join(options.repo, "site");
  if (siteDir !== false) {
    try {
      dashboard = await buildDashboard(historyRoot, siteDir, options.dashboard);
      log(`nightly: dashboard of ${dashboard.runs} run(s) in ${join(siteDir, "index.html")}`);
    } catch (error) {
      problems.push(`Dashboard failed: ${error instanceof Error ? error.message : error}`);
      if (exitCode === 0) exitCode = 1;
    }
  }
  return {
    group,
    shardRoot,
    shards,
    ...(merged === undefined ? {} : { merged }),
    ...(dashboard === undefined ? {} : { dashboard }),
    problems,
    exitCode,
  };
}
