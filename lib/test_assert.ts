/** Assertions for tests: node's strict assert, under the names Deno's std uses. */
import assert from "node:assert/strict";

export const assertEquals: <T>(actual: T, expected: T, msg?: string) => void = (a, e, m) =>
  assert.deepStrictEqual(a, e, m);
export const assertThrows = (fn: () => unknown, msg?: string): void => assert.throws(fn, msg);
export const assertMatch = (s: string, re: RegExp, msg?: string): void => assert.match(s, re, msg);
export const assert_ = assert;
