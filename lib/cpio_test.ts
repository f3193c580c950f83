import { assertEquals, assertThrows } from "./test_assert.ts";
import { cpioArchive, gzip } from "./cpio.ts";
import { run } from "./proc.ts";

const enc = new TextEncoder();

Deno.test("cpio: header fields and padding follow newc", () => {
  const a = cpioArchive([{ type: "file", path: "/a", data: enc.encode("xyz"), mode: 0o755 }]);
  const text = new TextDecoder().decode(a.slice(0, 110));
  assertEquals(text.slice(0, 6), "070701");
  assertEquals(parseInt(text.slice(14, 22), 16), 0o100755); // mode
  assertEquals(parseInt(text.slice(54, 62), 16), 3); // filesize
  assertEquals(parseInt(text.slice(94, 102), 16), 2); // namesize "a\0"
  assertEquals(a.length % 4, 0);
});

Deno.test("cpio: rejects duplicate and escaping paths", () => {
  assertThrows(() => cpioArchive([{ type: "dir", path: "x" }, { type: "dir", path: "/x" }]));
  assertThrows(() => cpioArchive([{ type: "dir", path: "a/../../etc" }]));
});

Deno.test("cpio: the system cpio reads our archive back", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const archive = cpioArchive([
      { type: "dir", path: "bin" },
      { type: "file", path: "bin/hello", data: enc.encode("#!/bin/sh\necho hi\n"), mode: 0o755 },
      { type: "symlink", path: "bin/sh", target: "busybox" },
    ]);
    await Deno.writeFile(`${dir}/a.cpio.gz`, await gzip(archive));
    const r = await run("sh", [
      "-c",
      `cd ${dir} && mkdir x && cd x && zcat ../a.cpio.gz | cpio -idm 2>&1`,
    ]);
    assertEquals(r.code, 0, r.stdout + r.stderr);
    assertEquals(await Deno.readTextFile(`${dir}/x/bin/hello`), "#!/bin/sh\necho hi\n");
    assertEquals(await Deno.readLink(`${dir}/x/bin/sh`), "busybox");
    assertEquals((await Deno.stat(`${dir}/x/bin/hello`)).mode! & 0o777, 0o755);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cpio: output is reproducible", async () => {
  const e = [{ type: "file" as const, path: "f", data: enc.encode("1") }];
  assertEquals(await gzip(cpioArchive(e)), await gzip(cpioArchive(e)));
});
