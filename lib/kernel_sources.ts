/**
 * Kernel sources that are fetched rather than installed: the series listed in
 * setup/kernel-sources.txt (7.2, from sid) come from `setup/fetch-linux-source.sh`, which puts
 * `linux-source-SERIES.tar.xz` and a `.fetched` record (the package's exact version) into
 * `<cache>/linux-source/`. This module reads that table and those records, and fetches the
 * series a run needs and lacks, so that only runs with such cells pay for the download.
 *
 * @module
 */
import { run, type Runner } from "./proc.ts";

/** The table that says which series are fetched, relative to the repository. */
export const KERNEL_SOURCES_TABLE = "setup/kernel-sources.txt";
/** The script that fetches one series, relative to the repository. */
export const FETCH_SCRIPT = "setup/fetch-linux-source.sh";

/** A line of the table that is not "SERIES SUITE". */
export class KernelSourcesError extends Error {
  constructor(readonly file: string, readonly line: number, message: string) {
    super(`${file}:${line}: ${message}`);
    this.name = "KernelSourcesError";
  }
}

/**
 * Parses setup/kernel-sources.txt: one "SERIES SUITE" a line, `#` comments and blank lines
 * ignored. Returns series -> Debian suite, in file order.
 */
export function parseKernelSourcesTable(
  text: string,
  file = KERNEL_SOURCES_TABLE,
): Record<string, string> {
  const out: Record<string, string> = {};
  text.split("\n").forEach((raw, i) => {
    const words = raw.replace(/#.*/, "").trim().split(/\s+/).filter((w) => w !== "");
    if (words.length === 0) return;
    const [series, suite] = words;
    if (words.length !== 2) {
      throw new KernelSourcesError(
        file,
        i + 1,
        `Expected "SERIES SUITE" (e.g. "7.2 sid"), found "${raw.trim()}"`,
      );
    }
    if (!/^\d+\.\d+$/.test(series)) {
      throw new KernelSourcesError(
        file,
        i + 1,
        `Expected a kernel series such as 7.2, found "${series}"`,
      );
    }
    if (!/^[a-z][a-z0-9.-]*$/.test(suite)) {
      throw new KernelSourcesError(
        file,
        i + 1,
        `Expected a Debian suite such as sid, found "${suite}"`,
      );
    }
    if (series in out) {
      throw new KernelSourcesError(file, i + 1, `Series ${series} is listed twice`);
    }
    out[series] = suite;
  });
  return out;
}

/** What `fetch-linux-source.sh` recorded about a fetched package. */
export interface FetchedRecord {
  /** E.g. "linux-source-7.2". */
  package: string;
  /** Debian's version, e.g. "7.2.13-1". */
  version: string;
  /** The suite it came from, e.g. "sid". */
  suite: string;
  /** SHA-256 of the .deb, or null when not recorded. */
  debSha256: string | null;
  /** When it was fetched (UTC, ISO 8601), or null when not recorded. */
  fetched: string | null;
}

/**
 * Parses a `linux-source-SERIES.fetched` record (`key=value` lines). Null when it lacks the
 * package, version or suite: a record cut short or not written by the fetch script.
 */
export function parseFetchedRecord(text: string): FetchedRecord | null {
  const fields = new Map<string, string>();
  for (const line of text.split("\n")) {
    const m = /^([a-z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) fields.set(m[1], m[2].trim());
  }
  const pkg = fields.get("package");
  const version = fields.get("version");
  const suite = fields.get("suite");
  if (!pkg || !version || !suite) return null;
  const sha = fields.get("deb_sha256") ?? "";
  return {
    package: pkg,
    version,
    suite,
    debSha256: /^[0-9a-f]{64}$/.test(sha) ? sha : null,
    fetched: fields.get("fetched") || null,
  };
}

/** Where fetched sources go under a cache root. */
export function fetchedSourcesDir(cache: string): string {
  return `${cache}/linux-source`;
}

/** Reads the repository's table of fetched series (series -> suite). */
export async function readKernelSourcesTable(repo: string): Promise<Record<string, string>> {
  const file = `${repo}/${KERNEL_SOURCES_TABLE}`;
  return parseKernelSourcesTable(await Deno.readTextFile(file), KERNEL_SOURCES_TABLE);
}

/** The outcome of {@link fetchMissingSources}. */
export interface FetchOutcome {
  /** Series -> tarball, for each series fetched now. */
  fetched: Record<string, string>;
  /** Series -> why its source is missing, for each series that still has none. */
  problems: Record<string, string>;
}

/** The last non-empty lines of a program's output, as one line. */
function lastLines(text: string, n = 3): string {
  return text.split("\n").map((l) => l.trim()).filter((l) => l !== "").slice(-n).join(" / ");
}

/**
 * For each series in `needed` without a tarball in `have`: fetches it with the fetch script when
 * the table lists it, else records why there is none. `onFetch` is told before each fetch (a
 * download of about 165 MB). Never throws for a failed fetch: the cells of that series skip with
 * the reason.
 */
export async function fetchMissingSources(options: {
  repo: string;
  cache: string;
  needed: string[];
  have: Record<string, string>;
  table: Record<string, string>;
  runner?: Runner;
  onFetch?: (series: string, suite: string) => void;
}): Promise<FetchOutcome> {
  const { repo, cache, have, table } = options;
  const runner = options.runner ?? run;
  const out: FetchOutcome = { fetched: {}, problems: {} };
  for (const series of [...new Set(options.needed)].sort()) {
    if (have[series]) continue;
    const suite = table[series];
    if (suite === undefined) {
      out.problems[series] = `No linux-source tarball for kernel ${series} on this host: ` +
        `/usr/src/linux-source-${series}.tar.xz comes from a Debian package ` +
        `(setup/packages.txt), or list the series in ${KERNEL_SOURCES_TABLE} to fetch it`;
      continue;
    }
    options.onFetch?.(series, suite);
    const r = await runner(`${repo}/${FETCH_SCRIPT}`, [series], {
      env: { VTCIO_CACHE: cache },
      timeoutMs: 30 * 60_000,
    }).catch((e: Error) => ({
      code: -1,
      signal: null,
      stdout: "",
      stderr: e.message,
      timedOut: false,
    }));
    const tarball = `${fetchedSourcesDir(cache)}/linux-source-${series}.tar.xz`;
    if (r.code === 0) {
      out.fetched[series] = tarball;
      continue;
    }
    const why = r.timedOut ? "timed out after 30 min" : lastLines(r.stderr + "\n" + r.stdout);
    out.problems[series] = `Fetching linux-source-${series} from ${suite} failed (${why}); ` +
      `fix that and run ./vtcio setup --kernel ${series} (docs/troubleshooting.md#kernel-source-72-optional)`;
  }
  return out;
}
