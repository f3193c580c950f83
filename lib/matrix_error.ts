/**
 * Errors for problems in a matrix file. Every problem points at a place in the file so that
 * editors and terminals can jump to it: `matrix/nightly.yaml:12:7: Unknown axis "kernal"
 * (did you mean "kernel"?)`.
 *
 * These are user errors (the file is wrong), as opposed to internal errors (a bug in vtcio): the
 * CLI prints their `message` as is, without a stack trace.
 *
 * @module
 */

/** Fields of a {@linkcode MatrixError}. */
export interface MatrixErrorInit {
  /** Path of the matrix file, as given to the parser. */
  file: string;
  /** 1-based line of the offending node. */
  line: number;
  /** 1-based column of the offending node. */
  column: number;
  /** What is wrong, starting with a capital and without a trailing period. */
  problem: string;
  /** How to fix it (e.g. "did you mean \"kernel\"?"), shown in parentheses. */
  hint?: string;
}

/** One problem in a matrix file, located at `file:line:column`. */
export class MatrixError extends Error {
  /** Path of the matrix file, as given to the parser. */
  readonly file: string;
  /** 1-based line of the offending node. */
  readonly line: number;
  /** 1-based column of the offending node. */
  readonly column: number;
  /** What is wrong, without location or hint. */
  readonly problem: string;
  /** How to fix it, if known. */
  readonly hint?: string;

  constructor(init: MatrixErrorInit, message?: string) {
    super(message ?? formatProblem(init));
    this.name = "MatrixError";
    this.file = init.file;
    this.line = init.line;
    this.column = init.column;
    this.problem = init.problem;
    if (init.hint !== undefined) this.hint = init.hint;
  }

  /** The single problems this error stands for: itself, or each problem of a {@linkcode MatrixErrors}. */
  get problems(): readonly MatrixError[] {
    return [this];
  }
}

/**
 * Several problems found in one pass over a matrix file, in file order. It is a
 * {@linkcode MatrixError} itself (with the location of the first problem), so a caller that
 * catches `MatrixError` handles both; its `message` has one `file:line:column: problem` line per
 * problem.
 */
export class MatrixErrors extends MatrixError {
  /** The problems, sorted by position in the file. */
  readonly errors: readonly MatrixError[];

  constructor(errors: readonly MatrixError[]) {
    if (errors.length === 0) throw new RangeError("MatrixErrors needs at least one error");
    const sorted = [...errors].sort((a, b) => a.line - b.line || a.column - b.column);
    const first = sorted[0];
    super(first, sorted.map((error) => error.message).join("\n"));
    this.name = "MatrixErrors";
    this.errors = sorted;
  }

  override get problems(): readonly MatrixError[] {
    return this.errors;
  }
}

/**
 * Throws nothing when `errors` is empty, the error itself when there is one, and a
 * {@linkcode MatrixErrors} when there are several.
 */
export function throwMatrixErrors(errors: readonly MatrixError[]): void {
  const unique = dedupe(errors);
  if (unique.length === 1) throw unique[0];
  if (unique.length > 1) throw new MatrixErrors(unique);
}

/**
 * A "did you mean" hint for a misspelt `word`: the closest of `candidates` by edit distance
 * (insertions, deletions, substitutions and swaps of neighbours; case-insensitive), or `undefined`
 * when none is close enough to be a plausible typo.
 *
 * @example
 * ```ts
 * didYouMean("kernal", ["kernel", "guest"]); // 'did you mean "kernel"?'
 * ```
 */
export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  const match = closestMatch(word, candidates);
  return match === undefined ? undefined : `did you mean "${match}"?`;
}

/** The candidate closest to `word` (see {@linkcode didYouMean}), or `undefined`. */
export function closestMatch(word: string, candidates: Iterable<string>): string | undefined {
  const lower = word.toLowerCase();
  const limit = Math.max(1, Math.min(3, Math.floor(word.length / 3)));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    if (candidate === word) continue;
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance <= limit && distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** Optimal string alignment distance between `a` and `b`. */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, () => new Array<number>(cols).fill(0));
  for (let i = 0; i < rows; i++) d[i][0] = i;
  for (let j = 0; j < cols; j++) d[0][j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.length][b.length];
}

function formatProblem(init: MatrixErrorInit): string {
  const where = `${init.file}:${init.line}:${init.column}`;
  return init.hint === undefined
    ? `${where}: ${init.problem}`
    : `${where}: ${init.problem} (${init.hint})`;
}

function dedupe(errors: readonly MatrixError[]): MatrixError[] {
  const seen = new Set<string>();
  const result: MatrixError[] = [];
  for (const error of errors) {
    if (seen.has(error.message)) continue;
    seen.add(error.message);
    result.push(error);
  }
  return result;
}
