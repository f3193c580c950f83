import assert from "node:assert/strict";
import { join } from "node:path";
import { JunitReporter } from "./reporter_junit.ts";
import { summarize } from "./summary.ts";
import type { Cell, CellResult, Outcome } from "./types.ts";

function result(id: string, outcome: Outcome): CellResult {
  return {
    id,
    outcome,
    reason: `${outcome} reason`,
    tests: [],
    timings: {},
    logs: {},
    attempts: 1,
    flaky: false,
    facts: {},
    started: "2026-11-25T03:15:00.000Z",
    finished: "2026-11-25T03:16:00.000Z",
  };
}

function suites(xml: string): string[] {
  return [...xml.matchAll(/<testsuite name="([^"]+)"/g)].map((m) => m[1]);
}

Deno.test("JunitReporter rewrites junit.xml after each cell and at the end", async () => {
  const dir = await Deno.makeTempDir({ prefix: "vtcio-junit-" });
  try {
    const path = join(dir, "junit.xml");
    const reporter = new JunitReporter(path);
    await reporter.onBegin({
      runId: "r",
      runDir: dir,
      cells: [{ id: "b" } as Cell],
      previous: [result("a", "pass")],
    });
    assert.deepEqual(suites(await Deno.readTextFile(path)), ["a"]);

    await reporter.onCellEnd({ id: "b" } as Cell, result("b", "crash"));
    const during = await Deno.readTextFile(path);
    assert.deepEqual(suites(during), ["a", "b"]);
    assert.match(during, /<failure type="crash"/);

    await reporter.onCellEnd({ id: "a" } as Cell, result("a", "fail"));
    await reporter.onEnd(summarize({
      runId: "r",
      runDir: dir,
      status: "complete",
      results: [result("b", "crash"), result("a", "fail")],
      seconds: 1,
    }));
    const final = await Deno.readTextFile(path);
    assert.deepEqual(suites(final), ["b", "a"]);
    assert.match(final, /<testsuites name="vtcio" tests="2" failures="2"/);
    const names = [];
    for await (const entry of Deno.readDir(dir)) names.push(entry.name);
    assert.deepEqual(names, ["junit.xml"], "No temporary file left behind");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
