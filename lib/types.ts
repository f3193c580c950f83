/**
 * Types shared along the pipeline: matrix YAML -> plan (cells) -> artifacts -> boot -> results
 * -> reporters. Each stage has its own file; this one only names the data that flows between them.
 */

/** A value an axis can take in a matrix file. */
export type AxisValue = string | number | boolean;

/** Seconds allowed for each phase of a cell. */
export interface PhaseTimeouts {
  build: number;
  l1_boot: number;
  l2_boot: number;
  clients: number;
}

/** What a cell is expected to show. */
export interface Expectation {
  /** Whether the guest client should find the tcioDD service ("unsupported": TESTDEVICE off). */
  support: "supported" | "unsupported";
  /** "fail" marks a known failure: a failing cell is then "xfail", a passing one "xpass". */
  outcome: "pass" | "fail";
  /** Why, when the expectation is not the default (shown in reports). */
  reason?: string;
}

/** Extra inputs a user-defined axis value maps to. */
export interface AxisEffects {
  l1_config: string[];
  l2_config: string[];
  l1_qemu: string[];
  l2_qemu: string[];
  /** Words added to L1's kernel command line (read by guest-images/l1/init). */
  l1_append: string[];
  /** Words added to L2's kernel command line. */
  l2_append: string[];
}

/** One combination of the matrix: everything needed to build, boot and judge it. */
export interface Cell {
  /** Stable id made from the axis values, e.g. "6.1-td-on-l1smp1-l2smp1-busybox". */
  id: string;
  /** Every axis value of this cell, built-in and user axes. */
  axes: Record<string, AxisValue>;
  kernel: string;
  testdevice: boolean;
  l1_smp: number;
  l2_smp: number;
  guest: string;
  debug: string;
  /** QEMU -cpu model for L2 (inside L1), e.g. "host" or "qemu64". */
  l2_cpu: string;
  expect: Expectation;
  timeouts: PhaseTimeouts;
  /** Union of the effects of user-defined axis values. */
  effects: AxisEffects;
  /** Human-readable account of where this cell came from (for plan --explain). */
  origin: string;
}

/** How a cell ended. */
export type Outcome =
  | "pass"
  | "fail"
  | "xfail"
  | "xpass"
  | "error"
  | "build-error"
  | "timeout"
  | "crash"
  | "skip";

/** Phases of a cell, in order. */
export type Phase = "build" | "image" | "l1_boot" | "l2_boot" | "clients" | "shutdown";

/** One KTAP test line, flattened (subtests get "parent.child" names). */
export interface TestResult {
  name: string;
  status: "ok" | "not ok" | "skip" | "todo";
  number: number;
  directive?: string;
  diagnostics: string[];
  suite: string;
}

/** The result of one cell. */
export interface CellResult {
  id: string;
  /** The cell's axis values, as planned (absent from runs recorded before they were kept). */
  axes?: Record<string, AxisValue>;
  outcome: Outcome;
  /** One line: why this outcome (e.g. "timeout in l2_boot after 240 s"). */
  reason: string;
  /** Phase that timed out or crashed, if any. */
  phase?: Phase;
  /** Crash report lines (panic, Oops, BUG, KASAN, lockdep) with their trace. */
  crash?: string[];
  tests: TestResult[];
  /** Seconds spent in each phase. */
  timings: Partial<Record<Phase, number>>;
  /** Paths of this cell's logs, relative to the run directory. */
  logs: Record<string, string>;
  attempts: number;
  flaky: boolean;
  /** Facts the cell recorded (accel mode, L2 cpu model, kernel release, measurement...). */
  facts: Record<string, string>;
  started: string;
  finished: string;
}
