/**
 * Finds kernel crash reports (panic, Oops, BUG, WARNING, KASAN, lockdep, lockups...) in a serial
 * console capture and cuts out each report's lines.
 *
 * A report starts at its trigger line (plus a "[ cut here ]" or "=====" line just before it) and
 * ends at the first of: its "---[ end trace ... ]---" / "---[ end Kernel panic ... ]---" marker,
 * the closing "=====" line of a framed report (KASAN, KFENCE, KCSAN, UBSAN), the end of a
 * kmemleak object, the "</TASK>" that closes its stack when no end marker follows shortly, the
 * next report, or a bounded number of lines.
 *
 * @module
 */

import { stripConsolePrefix } from "./ktap.ts";

/** What kind of kernel report a crash is. */
export type CrashKind =
  | "panic"
  | "oops"
  | "bug"
  | "warning"
  | "kasan"
  | "kfence"
  | "kcsan"
  | "ubsan"
  | "lockdep"
  | "kmemleak"
  | "soft-lockup"
  | "hard-lockup"
  | "hung-task"
  | "rcu-stall"
  | "init-killed";

/** One kernel report found on a console. */
export interface CrashReport {
  kind: CrashKind;
  /** Index, in the scanned lines, of the line that triggered the report. */
  line: number;
  /** The trigger line without its timestamp, e.g. "BUG: KASAN: use-after-free in ...". */
  summary: string;
  /** The report's console lines as captured (timestamps kept), trigger included. */
  trace: string[];
}

/** Options of {@linkcode detectCrashes}. */
export interface DetectOptions {
  /** Most lines kept in one report's trace (default 150). */
  maxTraceLines?: number;
  /** Extra patterns of harmless lines, tested against the line without its timestamp. */
  ignore?: RegExp[];
}

/**
 * Lines that look alarming but are not crashes: KVM reporting MSRs the guest touched that it
 * does not emulate (e.g. "kvm: vcpu0, guest rIP: 0x... Unhandled WRMSR(0xc0010007) = 0x0").
 */
export const HARMLESS_PATTERNS: readonly RegExp[] = [
  /\bUnhandled (?:WR|RD)MSR\b/,
  /\bkvm\b.*\bignored (?:wr|rd)msr\b/i,
  /\bkvm\b.*\bunhandled (?:wr|rd)msr\b/i,
];

interface Trigger {
  kind: CrashKind;
  pattern: RegExp;
}

const LOCKDEP_WARNINGS = [
  "possible circular locking dependency",
  "possible recursive locking",
  "inconsistent lock state",
  "suspicious RCU usage",
  "possible irq lock inversion dependency",
  "bad unlock balance",
  "held lock freed",
  "lock held when returning to user space",
  "Nested lock was not taken",
  "lock held at task exit time",
  "\\S+-safe -> \\S+-unsafe lock order",
].join("|");

/** Checked in order: the first match names the kind. */
const TRIGGERS: readonly Trigger[] = [
  { kind: "panic", pattern: /^Kernel panic - not syncing\b/ },
  { kind: "soft-lockup", pattern: /^(?:watchdog: )?BUG: soft lockup\b/ },
  { kind: "hard-lockup", pattern: /^(?:NMI )?(?:watchdog: )?Watchdog detected hard LOCKUP\b/ },
  { kind: "hung-task", pattern: /^INFO: task \S.* blocked for more than \d+ seconds/ },
  { kind: "rcu-stall", pattern: /^(?:rcu: )?INFO: rcu_\w+ (?:self-)?detected stalls?\b/ },
  { kind: "kasan", pattern: /^BUG: KASAN: / },
  { kind: "kfence", pattern: /^BUG: KFENCE: / },
  { kind: "kcsan", pattern: /^BUG: KCSAN: / },
  { kind: "ubsan", pattern: /^UBSAN: / },
  { kind: "lockdep", pattern: new RegExp(`^WARNING: (?:${LOCKDEP_WARNINGS})`) },
  { kind: "lockdep", pattern: /^\[ INFO: (?:possible|inconsistent|suspicious) / },
  {
    kind: "oops",
    pattern:
      /^(?:BUG: unable to handle\b|BUG: kernel NULL pointer dereference\b|Unable to handle kernel (?:NULL pointer dereference|paging request)\b)/,
  },
  { kind: "oops", pattern: /^(?:Internal error: )?Oops\b/ },
  { kind: "oops", pattern: /^general protection fault\b/ },
  { kind: "bug", pattern: /^kernel BUG at / },
  { kind: "bug", pattern: /^BUG: / },
  { kind: "warning", pattern: /^WARNING: (?:CPU: \d+ PID: \d+ at |at |\S+:\d+ at )/ },
  { kind: "kmemleak", pattern: /^unreferenced object 0x[0-9a-f]+ \(size \d+\):/ },
  { kind: "kmemleak", pattern: /^kmemleak: \d+ new suspected memory leaks?\b/ },
  { kind: "init-killed", pattern: /^Attempted to kill init\b/ },
];

/** Lines that continue an open Oops/BUG rather than start a new report. */
const OOPS_CONTINUATION =
  /^(?:Oops\b|Internal error: Oops\b|invalid opcode: |general protection fault\b|stack segment: |double fault: )/;

const FRAMED: ReadonlySet<CrashKind> = new Set(["kasan", "kfence", "kcsan", "ubsan"]);
const END_MARKER = /---\[ end (?:trace|Kernel panic)\b/;
const SEPARATOR = /^={20,}\s*$/;
const CUT_HERE = /^-+\[ cut here \]-+\s*$/;
/** Lines after "</TASK>" in which an end marker (or another stack) may still come. */
const TASK_GRACE = 8;

interface Open {
  report: CrashReport;
  /** Trace length to keep if the report ends without an end marker after its stack. */
  closeAt?: number;
  /** Lines seen since `closeAt` was set. */
  sinceClose: number;
}

/** What a line did to an open report. */
type Step =
  /** The line belongs to the report, which goes on. */
  | "more"
  /** The line belongs to the report and ends it. */
  | "last"
  /** The report ended before this line. */
  | "outside";

/** Scans console lines for kernel crash reports, in console order. */
export function detectCrashes(lines: string[], options: DetectOptions = {}): CrashReport[] {
  const maxTraceLines = options.maxTraceLines ?? 150;
  const harmless = [...HARMLESS_PATTERNS, ...(options.ignore ?? [])];
  const found: CrashReport[] = [];
  let open: Open | undefined;
  /** Index of the line that ended the last report through its own end line. */
  let endedAt = -1;

  const close = () => {
    if (open === undefined) return;
    const { report, closeAt } = open;
    if (closeAt !== undefined && closeAt < report.trace.length) report.trace.length = closeAt;
    found.push(report);
    open = undefined;
  };

  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i].replace(/\r+$/, "");
    const message = stripConsolePrefix(raw);
    const text = message.trim();
    if (harmless.some((pattern) => pattern.test(text))) continue;

    const trigger = TRIGGERS.find((t) => t.pattern.test(text));
    if (open !== undefined) {
      const kind = open.report.kind;
      const absorbed = trigger !== undefined && (kind === "oops" || kind === "bug") &&
        OOPS_CONTINUATION.test(text);
      if (trigger === undefined || absorbed) {
        const step = continueReport(open, raw, message, text, maxTraceLines);
        if (step === "last") {
          open.closeAt = undefined;
          endedAt = i;
        }
        if (step !== "more") close();
        continue;
      }
      // A new report: a "cut here" or separator line just before it belongs to the new one.
      const trace = open.report.trace;
      if (trace.length > 1 && i > 0 && isFrameLine(lines[i - 1])) trace.pop();
      close();
    }
    if (trigger === undefined) continue;

    const trace: string[] = [];
    if (i > 0 && i - 1 !== endedAt && isFrameLine(lines[i - 1])) {
      trace.push(lines[i - 1].replace(/\r+$/, ""));
    }
    trace.push(raw);
    open = { report: { kind: trigger.kind, line: i, summary: text, trace }, sinceClose: 0 };
    if (/^kmemleak: /.test(text)) close();
  }
  close();
  return found;
}

/** Adds a line to an open report, or tells that the report ended. */
function continueReport(
  open: Open,
  raw: string,
  message: string,
  text: string,
  maxTraceLines: number,
): Step {
  const report = open.report;
  if (report.kind === "kmemleak") {
    if (!/^\s/.test(message) || report.trace.length >= maxTraceLines) return "outside";
    report.trace.push(raw);
    return "more";
  }
  if (open.closeAt !== undefined && open.sinceClose >= TASK_GRACE) return "outside";
  if (report.trace.length >= maxTraceLines) return "outside";
  report.trace.push(raw);
  if (END_MARKER.test(text)) return "last";
  if (FRAMED.has(report.kind)) return SEPARATOR.test(text) ? "last" : "more";
  if (text === "</TASK>") {
    open.closeAt = report.trace.length;
    open.sinceClose = 0;
  } else if (open.closeAt !== undefined) {
    if (/^(?:<TASK>|<IRQ>|<NMI>|Call Trace:)/.test(text)) open.closeAt = undefined;
    else open.sinceClose++;
  }
  return "more";
}

/** A "[ cut here ]" or "=====" line, which opens the report that follows it. */
function isFrameLine(line: string): boolean {
  const text = stripConsolePrefix(line).trim();
  return CUT_HERE.test(text) || SEPARATOR.test(text);
}
