import assert from "node:assert/strict";
import {
  FETCH_SCRIPT,
  fetchedSourcesDir,
  fetchMissingSources,
  KernelSourcesError,
  parseFetchedRecord,
  parseKernelSourcesTable,
  readKernelSourcesTable,
} from "./kernel_sources.ts";
import type { Runner, RunOptions, RunResult } from "./proc.ts";

const REPO = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

Deno.test("parseKernelSourcesTable() reads series and suites, skipping comments", () => {
  const table = parseKernelSourcesTable(
    "# Kernel series fetched from another suite\n\n7.2 sid   # the nightly's third kernel\n" +
      "  7.3\texperimental\n",
  );
  assert.deepEqual(table, { "7.2": "sid", "7.3": "experimental" });
  assert.deepEqual(parseKernelSourcesTable("# nothing yet\n"), {});
});

Deno.test("parseKernelSourcesTable() names the file and line of a bad entry", () => {
  const bad: [string, RegExp][] = [
    ["7.2\n", /^t\.txt:1: Expected "SERIES SUITE" \(e\.g\. "7\.2 sid"\), found "7\.2"$/],
    ["# c\n7.2 sid extra\n", /^t\.txt:2: Expected "SERIES SUITE"/],
    ["7 sid\n", /^t\.txt:1: Expected a kernel series such as 7\.2, found "7"$/],
    ["7.2 Sid!\n", /^t\.txt:1: Expected a Debian suite such as sid, found "Sid!"$/],
    ["7.2 sid\n7.2 experimental\n", /^t\.txt:2: Series 7\.2 is listed twice$/],
  ];
  for (const [text, message] of bad) {
    assert.throws(() => parseKernelSourcesTable(text, "t.txt"), (e: unknown) => {
      assert.ok(e instanceof KernelSourcesError);
      assert.match(e.message, message);
      return true;
    });
  }
});

Deno.test("the repository's table lists 7.2 from sid", async () => {
  assert.deepEqual(await readKernelSourcesTable(REPO), { "7.2": "sid" });
});

Deno.test("parseFetchedRecord() reads what fetch-linux-source.sh writes", () => {
  const sha = "30a8c5fc63f9028a62e6d7b3f7f43bee67425dbce2a05fceba83f9b87c92083d";
  assert.deepEqual(
    parseFetchedRecord(
      `package=linux-source-7.2\nversion=7.2.13-1\nsuite=sid\ndeb_sha256=${sha}\n` +
        "fetched=2026-12-03T10:46:56Z\n",
    ),
    {
      package: "linux-source-7.2",
      version: "7.2.13-1",
      suite: "sid",
      debSha256: sha,
      fetched: "2026-12-03T10:46:56Z",
    },
  );
  assert.deepEqual(
    parseFetchedRecord("package=linux-source-7.2\nversion=1:7.2.14-1~exp1\nsuite=experimental"),
    {
      package: "linux-source-7.2",
      version: "1:7.2.14-1~exp1",
      suite: "experimental",
      debSha256: null,
      fetched: null,
    },
  );
  assert.equal(parseFetchedRecord("package=linux-source-7.2\nsuite=sid\n"), null, "no version");
  assert.equal(parseFetchedRecord("package=linux-source-7.2\nvers"), null, "cut short");
  assert.equal(parseFetchedRecord(""), null);
});

interface Call {
  cmd: string;
  args: string[];
  opts?: RunOptions;
}

function fakeRunner(answer: (series: string) => Partial<RunResult>): {
  runner: Runner;
  calls: Call[];
} {
  const calls: Call[] = [];
  const runner: Runner = (cmd, args, opts) => {
    calls.push({ cmd, args, opts });
    return Promise.resolve({
      code: 0,
      signal: null,
      stdout: "",
      stderr: "",
      timedOut: false,
      ...answer(args[0]),
    });
  };
  return { runner, calls };
}

Deno.test("fetchMissingSources() fetches only listed series that a run needs and lacks", async () => {
  const { runner, calls } = fakeRunner(() => ({}));
  const told: string[] = [];
  const out = await fetchMissingSources({
    repo: "/repo",
    cache: "/cache",
    needed: ["6.1", "7.2", "7.2", "6.1"],
    have: { "6.1": "/usr/src/linux-source-6.1.tar.xz" },
    table: { "7.2": "sid", "7.3": "experimental" },
    runner,
    onFetch: (series, suite) => told.push(`${series} ${suite}`),
  });
  assert.deepEqual(out, {
    fetched: { "7.2": "/cache/linux-source/linux-source-7.2.tar.xz" },
    problems: {},
  });
  assert.deepEqual(told, ["7.2 sid"]);
  assert.equal(calls.length, 1, "7.3 is not needed, 6.1 is there");
  assert.equal(calls[0].cmd, `/repo/${FETCH_SCRIPT}`);
  assert.deepEqual(calls[0].args, ["7.2"]);
  assert.deepEqual(calls[0].opts?.env, { VTCIO_CACHE: "/cache" });
  assert.equal(fetchedSourcesDir("/cache"), "/cache/linux-source");
});

Deno.test("fetchMissingSources() says why a source is missing instead of throwing", async () => {
  const { runner } = fakeRunner((series) =>
    series === "7.2"
      ? {
        code: 1,
        stderr: "E: Failed to fetch InRelease\n" +
          "fetch-linux-source: apt-get update of sid failed: see the lines above\n",
      }
      : { code: -1, timedOut: true }
  );
  const out = await fetchMissingSources({
    repo: "/repo",
    cache: "/cache",
    needed: ["7.2", "7.3", "5.10"],
    have: {},
    table: { "7.2": "sid", "7.3": "experimental" },
    runner,
  });
  assert.deepEqual(out.fetched, {});
  assert.equal(
    out.problems["7.2"],
    "Fetching linux-source-7.2 from sid failed (E: Failed to fetch InRelease / " +
      "fetch-linux-source: apt-get update of sid failed: see the lines above); fix that and run " +
      "./vtcio setup --kernel 7.2 (docs/troubleshooting.md#kernel-source-72-optional)",
  );
  assert.match(
    out.problems["7.3"],
    /^Fetching linux-source-7\.3 from experimental failed \(timed out/,
  );
  assert.match(
    out.problems["5.10"],
    /^No linux-source tarball for kernel 5\.10 on this host: .*list the series in setup\/kernel-sources\.txt/,
  );
});

Deno.test("fetchMissingSources() turns a runner that cannot start the script into a reason", async () => {
  const runner: Runner = () =>
    Promise.reject(new Deno.errors.PermissionDenied("Permission denied"));
  const out = await fetchMissingSources({
    repo: "/repo",
    cache: "/cache",
    needed: ["7.2"],
    have: {},
    table: { "7.2": "sid" },
    runner,
  });
  assert.match(out.problems["7.2"], /failed \(Permission denied\)/);
});
