import { assertEquals, assertMatch } from "./test_assert.ts";
import assert from "node:assert/strict";
import { liveGroups, readLines, spawn } from "./proc.ts";
import { fakeQemu, leftovers, waitGone } from "./testdata/fake_guest.ts";

const driver = new URL("./testdata/spawn_driver.ts", import.meta.url).pathname;

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "vtcio-proc-test-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Waits until at least `n` processes name `marker`. */
async function waitFor(marker: string, n: number): Promise<number[]> {
  for (let i = 0; i < 100; i++) {
    const pids = await leftovers(marker);
    if (pids.length >= n) return pids;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`Fewer than ${n} processes name ${marker}`);
}

Deno.test("spawn: a SIGKILLed vtcio takes the program's whole process group with it", () =>
  withDir(async (dir) => {
    // The fake QEMU and a child of its own, both asleep: nothing would ever end them.
    const qemu = await fakeQemu(dir, "nap 300 & hang");
    const parent = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", driver, qemu],
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const lines = readLines(parent.stdout)[Symbol.asyncIterator]();
    assertMatch((await lines.next()).value ?? "", /^started \d+$/);
    await waitFor(`${dir}/sleep`, 2);
    // No handler runs on SIGKILL: only the reaper in the group can clean up.
    parent.kill("SIGKILL");
    assertEquals((await parent.status).signal, "SIGKILL");
    await lines.return?.();
    assertEquals(await waitGone(dir), [], "processes of the fake QEMU outlived vtcio");
  }));

Deno.test("spawn: what the program leaves behind is killed when it exits", () =>
  withDir(async (dir) => {
    const qemu = await fakeQemu(dir, `nap 300 &\necho up\nexit 7`);
    const child = spawn(qemu, []);
    const seen: string[] = [];
    // The line stream ends although the background sleep held stdout open.
    for await (const line of child.lines) seen.push(line);
    assertEquals(seen, ["up"]);
    assertEquals((await child.status).code, 7);
    assertEquals(await waitGone(dir), []);
    assertEquals(liveGroups(), 0);
  }));

Deno.test("spawn: the pid and exit status are the program's own", () =>
  withDir(async (dir) => {
    const qemu = await fakeQemu(dir, `echo "args: $*"\nnap 0.3\nexit 3`);
    const child = spawn(qemu, ["-name", "two words"], { cwd: dir });
    // Once the reaper is set up, the shell execs the program in place.
    let argv: string[] = [];
    for (let i = 0; i < 40 && argv[1] !== qemu; i++) {
      await new Promise((r) => setTimeout(r, 25));
      argv = (await Deno.readTextFile(`/proc/${child.pid}/cmdline`)).split("\0");
    }
    assertEquals(argv.slice(1, 4), [qemu, "-name", "two words"]);
    const seen: string[] = [];
    for await (const line of child.lines) seen.push(line);
    assertEquals(seen, ["args: -name two words"]);
    assertEquals((await child.status).code, 3);
    await child.kill(0);
  }));

Deno.test("spawn: a program that does not exist is NotFound, as Deno.Command reports it", () => {
  for (const cmd of ["/nonexistent/qemu-system-x86_64", "vtcio-no-such-program"]) {
    assert.throws(() => spawn(cmd, []), Deno.errors.NotFound);
  }
  assertEquals(liveGroups(), 0);
});

Deno.test("proc: readLines() cuts a long stretch whose line end comes in the same chunk", async () => {
  const chunks = (...parts: string[]) =>
    new ReadableStream<Uint8Array>({
      start(c) {
        for (const p of parts) c.enqueue(new TextEncoder().encode(p));
        c.close();
      },
    });
  const all = async (s: ReadableStream<Uint8Array>) => {
    const out: string[] = [];
    for await (const l of readLines(s, 4)) out.push(l);
    return out;
  };
  // 3 then 6 characters and the line end in the second chunk: pieces of 4, never 9.
  assertEquals(await all(chunks("xxx", "xxxxxx\nab\r\n", "yyyyy")), [
    "xxxx",
    "xxxx",
    "x",
    "ab",
    "yyyy",
    "y",
  ]);
  assertEquals(await all(chunks("abcd\n", "\n")), ["abcd", ""]);
});
