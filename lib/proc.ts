/**
 * The one wrapper around external programs. Everything vtcio runs (make, QEMU, apt-get...) goes
 * through here, so tests can replace it and so every long-lived child is tracked and killed as a
 * whole process group when the run is interrupted.
 */

/** What a finished program left behind. */
export interface RunResult {
  code: number;
  signal: string | null;
  stdout: string;
  stderr: string;
  /** True when the timeout killed it. */
  timedOut: boolean;
}

export interface RunOptions {
  cwd?: string;
  env?: Record<string, string>;
  /** Kill the whole process group after this many milliseconds. */
  timeoutMs?: number;
  /** Append stdout and stderr to this file as they arrive, instead of capturing them. */
  logFile?: string;
  stdin?: string;
}

/** A started process group whose output is read line by line. */
export interface Spawned {
  pid: number;
  /** Lines of stdout (stderr merged in when asked). */
  lines: AsyncIterable<string>;
  status: Promise<Deno.CommandStatus>;
  /** SIGTERM the group, then SIGKILL after graceMs; resolves when the process has exited. */
  kill(graceMs?: number): Promise<void>;
}

/** Signature of {@link run}, so callers can take a fake in tests. */
export type Runner = (cmd: string, args: string[], opts?: RunOptions) => Promise<RunResult>;

const live = new Set<number>();
let handlersInstalled = false;

/**
 * An external program that ran to its end: what it was and when, in `performance.now()`
 * milliseconds (since this process started). `spawned` tells a long-lived program started with
 * {@link spawn} (QEMU running a guest) from one {@link run} waited for.
 */
export interface ChildSpan {
  cmd: string;
  args: string[];
  spawned: boolean;
  start: number;
  end: number;
}

const spanObservers = new Set<(span: ChildSpan) => void>();

/**
 * Calls `fn` with every program started through this module that ends from now on (benchmarks
 * and run records use it to tell QEMU and compiler time from vtcio's own). Returns the function
 * that stops the calls.
 */
export function observeChildren(fn: (span: ChildSpan) => void): () => void {
  spanObservers.add(fn);
  return () => spanObservers.delete(fn);
}

function recordSpan(cmd: string, args: string[], spawned: boolean, start: number): void {
  if (spanObservers.size === 0) return;
  const span = { cmd, args, spawned, start, end: performance.now() };
  for (const fn of spanObservers) fn(span);
}

/** Kills every process group still running. Safe to call more than once. */
export function killAll(signal: Deno.Signal = "SIGKILL"): void {
  for (const pid of live) {
    try {
      Deno.kill(-pid, signal);
    } catch {
      // Already gone.
    }
  }
}

/** Number of process groups started here that have not exited yet. */
export function liveGroups(): number {
  return live.size;
}

function track(pid: number, status: Promise<Deno.CommandStatus>): void {
  live.add(pid);
  status.finally(() => live.delete(pid));
}

/**
 * Runs a program to completion in its own process group. Output is captured, or appended to
 * `logFile`. A timeout kills the whole group (grandchildren included).
 */
export async function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const log = opts.logFile
    ? await Deno.open(opts.logFile, { create: true, append: true, write: true })
    : undefined;
  const start = performance.now();
  const child = new Deno.Command(cmd, {
    args,
    cwd: opts.cwd,
    env: opts.env,
    stdin: opts.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
    detached: true,
  }).spawn();
  track(child.pid, child.status);
  let timedOut = false;
  const timer = opts.timeoutMs === undefined ? undefined : setTimeout(() => {
    timedOut = true;
    killGroup(child.pid, "SIGKILL");
  }, opts.timeoutMs);
  if (opts.stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(opts.stdin)).catch(() => {});
    await w.close().catch(() => {});
  }
  const collect = async (stream: ReadableStream<Uint8Array>): Promise<string> => {
    if (log) {
      for await (const chunk of stream) await log.write(chunk);
      return "";
    }
    return await new Response(stream).text();
  };
  try {
    const [stdout, stderr, status] = await Promise.all([
      collect(child.stdout),
      collect(child.stderr),
      child.status,
    ]);
    recordSpan(cmd, args, false, start);
    return { code: status.code, signal: status.signal, stdout, stderr, timedOut };
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    log?.close();
  }
}

function killGroup(pid: number, signal: Deno.Signal): void {
  try {
    Deno.kill(-pid, signal);
  } catch {
    // The group is gone.
  }
}

/** Longest line {@link readLines} yields by default; a longer run without a line end is split. */
export const MAX_LINE_CHARS = 64 * 1024;

/**
 * Splits a byte stream into lines (without their line ends; a trailing partial line is kept).
 * A stretch of more than `maxLine` characters without a line end (a guest printing garbage) is
 * yielded in pieces of `maxLine`, so memory stays bounded whatever the stream holds.
 */
export async function* readLines(
  stream: ReadableStream<Uint8Array>,
  maxLine = MAX_LINE_CHARS,
): AsyncIterable<string> {
  const decoder = new TextDecoder();
  let pending = "";
  for await (const chunk of stream) {
    pending += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = pending.indexOf("\n")) >= 0) {
      // The end of a long stretch may come in the chunk that ends its line: cut it here too.
      let line = pending.slice(0, nl).replace(/\r$/, "");
      pending = pending.slice(nl + 1);
      for (; line.length > maxLine; line = line.slice(maxLine)) yield line.slice(0, maxLine);
      yield line;
    }
    while (pending.length > maxLine) {
      yield pending.slice(0, maxLine);
      pending = pending.slice(maxLine);
    }
  }
  pending += decoder.decode();
  if (pending.length > 0) yield pending.replace(/\r$/, "");
}

/**
 * Runs `"$0" "$@"` with a reaper beside it in its process group: a subshell blocked reading a
 * pipe whose only writer is vtcio. However vtcio ends (SIGKILL and the OOM killer included,
 * which no handler sees), the kernel closes that pipe, the read returns, and the reaper
 * SIGKILLs the whole group. As a member of the group it also keeps the group id from being
 * reused while it might still signal it. The program itself replaces the shell (same pid, its
 * own exit status) with stdin from /dev/null.
 */
const REAPER = [
  "exec 3<&0 </dev/null",
  "(read -r _ <&3; kill -9 0) >/dev/null 2>&1 &",
  'exec "$0" "$@" 3<&-',
].join("\n");

/** Throws NotFound, as spawning it would, when `cmd` names no executable file. */
function checkProgram(cmd: string, cwd?: string): void {
  const candidates = cmd.includes("/")
    ? [cmd.startsWith("/") ? cmd : `${cwd ?? Deno.cwd()}/${cmd}`]
    : (Deno.env.get("PATH") ?? "/usr/bin:/bin").split(":").map((d) => `${d || "."}/${cmd}`);
  for (const path of candidates) {
    try {
      const st = Deno.statSync(path);
      if (st.isFile && ((st.mode ?? 0o111) & 0o111) !== 0) return;
    } catch {
      // Not this one.
    }
  }
  throw new Deno.errors.NotFound(`Cannot run ${cmd}: no such program`);
}

/**
 * Starts a long-lived program (QEMU) in its own process group, stdout read as lines and stderr
 * merged into the same line stream. The group is killed by {@link killAll} and by
 * {@link installSignalHandlers} on Ctrl-C or SIGTERM, when the program exits (whatever it left
 * behind), and by its reaper (see {@link REAPER}) if vtcio itself dies without a chance to.
 */
export function spawn(cmd: string, args: string[], opts: { cwd?: string } = {}): Spawned {
  checkProgram(cmd, opts.cwd);
  const start = performance.now();
  const child = new Deno.Command("/bin/sh", {
    args: ["-c", REAPER, cmd, ...args],
    cwd: opts.cwd,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    detached: true,
  }).spawn();
  track(child.pid, child.status);
  // The program is gone: closing the reaper's pipe makes it clear the rest of the group.
  const clear = () => {
    recordSpan(cmd, args, true, start);
    child.stdin.close().catch(() => {});
    killGroup(child.pid, "SIGKILL");
  };
  child.status.then(clear, clear);
  const lines = merge(readLines(child.stdout), readLines(child.stderr));
  return {
    pid: child.pid,
    lines,
    status: child.status,
    async kill(graceMs = 2000) {
      killGroup(child.pid, "SIGTERM");
      const done = await Promise.race([
        child.status.then(() => true),
        new Promise<boolean>((r) => setTimeout(() => r(false), graceMs)),
      ]);
      if (!done) killGroup(child.pid, "SIGKILL");
      await child.status;
      // Grandchildren outlive a dead leader: clear the group whatever happened.
      killGroup(child.pid, "SIGKILL");
    },
  };
}

/** Interleaves several async line streams in arrival order. */
export async function* merge(...sources: AsyncIterable<string>[]): AsyncIterable<string> {
  const iters = sources.map((s) => s[Symbol.asyncIterator]());
  const next = (i: number) => iters[i].next().then((r) => ({ i, r }));
  const pending = new Map<number, Promise<{ i: number; r: IteratorResult<string> }>>();
  iters.forEach((_, i) => pending.set(i, next(i)));
  while (pending.size > 0) {
    const { i, r } = await Promise.race(pending.values());
    if (r.done) {
      pending.delete(i);
      continue;
    }
    pending.set(i, next(i));
    yield r.value;
  }
}

/**
 * On SIGINT or SIGTERM: kill every tracked process group first, then call `onSignal` (the CLI
 * entry point's handler, which writes what results exist and exits).
 */
export function installSignalHandlers(onSignal: (signal: Deno.Signal) => void): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(sig, () => {
      killAll("SIGKILL");
      onSignal(sig);
    });
  }
  globalThis.addEventListener("unload", () => killAll("SIGKILL"));
}
