/**
 * setup/fetch-linux-source.sh against fake `apt-get` and `dpkg-deb` (the real tar, sha256sum and
 * flock): the private apt configuration it passes, the mirror it takes from the host's apt
 * sources, what it leaves in the cache, its idempotence and its failures. The real download is
 * what `./vtcio setup --kernel 7.2` does (see docs/troubleshooting.md).
 */
import assert from "node:assert/strict";
import { run } from "./proc.ts";
import { parseFetchedRecord } from "./kernel_sources.ts";

const REPO = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const SCRIPT = `${REPO}/setup/fetch-linux-source.sh`;
const HAS_KEYRING = await Deno.stat("/usr/share/keyrings/debian-archive-keyring.gpg").then(
  () => true,
  () => false,
);

/**
 * A fake apt-get that logs its arguments (one per line) and the sources entry it was given, then
 * "--", fails `update` when $FAKE_APT_FAIL is set, and `download` writes a .deb stand-in; a fake
 * dpkg-deb that answers -f and --fsys-tarfile from a prepared tree.
 */
async function fakeTools(root: string): Promise<string> {
  const bin = `${root}/bin`;
  await Deno.mkdir(bin, { recursive: true });
  await Deno.mkdir(`${root}/debtree/usr/src`, { recursive: true });
  await Deno.writeTextFile(
    `${root}/debtree/usr/src/linux-source-7.2.tar.xz`,
    "pretend kernel sources\n",
  );
  await Deno.writeTextFile(
    `${bin}/apt-get`,
    `#!/bin/sh
for a in "$@"; do printf '%s\\n' "$a"; done >>"$FAKE_LOG"
for a in "$@"; do
  case $a in Dir::Etc::SourceParts=*) cat "\${a#*=}"/*.sources >>"$FAKE_LOG" ;; esac
done
echo -- >>"$FAKE_LOG"
case " $* " in
  *" update "*) [ -z "\${FAKE_APT_FAIL:-}" ] || { echo "E: Failed to fetch InRelease" >&2; exit 100; } ;;
  *" download "*) echo "deb of $(pwd)" >linux-source-7.2_7.2.13-1_all.deb ;;
esac
`,
  );
  await Deno.writeTextFile(
    `${bin}/dpkg-deb`,
    `#!/bin/sh
case $1 in
  -f) case $3 in Package) echo linux-source-7.2 ;; Version) echo 7.2.13-1 ;; esac ;;
  --fsys-tarfile) tar -cf - -C "${root}/debtree" ./usr ;;
  *) exit 2 ;;
esac
`,
  );
  await Deno.chmod(`${bin}/apt-get`, 0o755);
  await Deno.chmod(`${bin}/dpkg-deb`, 0o755);
  return bin;
}

async function fetch(root: string, env: Record<string, string>, series = "7.2") {
  const bin = await fakeTools(root);
  return await run("sh", [SCRIPT, series], {
    env: {
      PATH: `${bin}:${Deno.env.get("PATH")}`,
      VTCIO_CACHE: `${root}/cache`,
      VTCIO_APT_ETC: `${root}/etc-apt`,
      FAKE_LOG: `${root}/apt.log`,
      ...env,
    },
    timeoutMs: 60_000,
  });
}

async function hostSources(root: string, files: Record<string, string>): Promise<void> {
  for (const [name, text] of Object.entries(files)) {
    const path = `${root}/etc-apt/${name}`;
    await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
    await Deno.writeTextFile(path, text);
  }
}

async function withRoot(fn: (root: string) => Promise<void>): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "vtcio-fetch-" });
  try {
    await fn(root);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

const DEB822 = `Types: deb
# a comment line, as Debian's images have
URIs: http://mirror.example/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://mirror.example/debian-security
Suites: bookworm-security
Components: main
`;

Deno.test({
  name: "fetch-linux-source.sh fetches with a private apt and records the version",
  ignore: !HAS_KEYRING,
  fn: () =>
    withRoot(async (root) => {
      await hostSources(root, {
        "sources.list": "deb https://vendor.example/apt cloud-sdk-bookworm main\n",
        "sources.list.d/debian.sources": DEB822,
      });
      const r = await fetch(root, {});
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /linux-source-7\.2 7\.2\.13-1 from sid is in /);

      const dest = `${root}/cache/linux-source`;
      assert.equal(
        await Deno.readTextFile(`${dest}/linux-source-7.2.tar.xz`),
        "pretend kernel sources\n",
      );
      const record = parseFetchedRecord(
        await Deno.readTextFile(`${dest}/linux-source-7.2.fetched`),
      );
      assert.ok(record);
      assert.equal(record.package, "linux-source-7.2");
      assert.equal(record.version, "7.2.13-1");
      assert.equal(record.suite, "sid");
      assert.match(record.debSha256 ?? "", /^[0-9a-f]{64}$/);
      assert.match(record.fetched ?? "", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      // The work directory is gone; only the tarball, its record and the lock remain.
      assert.deepEqual(
        [...Deno.readDirSync(dest)].map((e) => e.name).sort(),
        [".linux-source-7.2.lock", "linux-source-7.2.fetched", "linux-source-7.2.tar.xz"],
      );

      const log = await Deno.readTextFile(`${root}/apt.log`);
      const [update, download] = log.split("--\n");
      // apt reads and writes nothing of the system's: no sources, lists, status or cache.
      for (const call of [update, download]) {
        assert.match(call, /^Dir::Etc::SourceList=\/dev\/null$/m);
        assert.match(call, /^Dir::Etc::Preferences=\/dev\/null$/m);
        for (const key of ["SourceParts", "PreferencesParts"]) {
          assert.match(call, new RegExp(`^Dir::Etc::${key}=${dest}/\\.fetch-7\\.2\\.`, "m"));
        }
        for (const key of ["State::Lists", "State::Status", "Cache"]) {
          assert.match(call, new RegExp(`^Dir::${key}=${dest}/\\.fetch-7\\.2\\.`, "m"));
        }
      }
      assert.match(update, /^update$/m);
      // A mirror that cannot be reached fails the update (apt only warns by default).
      assert.match(update, /^APT::Update::Error-Mode=any$/m);
      assert.match(download, /^download\nlinux-source-7\.2$/m);
      // The one sources entry: the host's Debian mirror (not -security, not a vendor's), sid.
      assert.match(update, /^URIs: http:\/\/mirror\.example\/debian\nSuites: sid\n/m);
    }),
});

Deno.test({
  name: "fetch-linux-source.sh does nothing when the source is already there",
  ignore: !HAS_KEYRING,
  fn: () =>
    withRoot(async (root) => {
      await hostSources(root, { "sources.list": "deb http://m.example/debian bookworm main\n" });
      assert.equal((await fetch(root, {})).code, 0);
      await Deno.remove(`${root}/apt.log`);
      const again = await fetch(root, {});
      assert.equal(again.code, 0);
      assert.match(again.stderr, /linux-source-7\.2 7\.2\.13-1 is already in /);
      assert.equal(await Deno.stat(`${root}/apt.log`).then(() => true, () => false), false);
    }),
});

Deno.test({
  name: "fetch-linux-source.sh takes the mirror from a one-line sources.list",
  ignore: !HAS_KEYRING,
  fn: () =>
    withRoot(async (root) => {
      await hostSources(root, {
        "sources.list":
          "deb [arch=amd64 signed-by=/k.gpg] http://old.example/debian bookworm main\n",
      });
      assert.equal((await fetch(root, {})).code, 0);
      assert.match(
        await Deno.readTextFile(`${root}/apt.log`),
        /^URIs: http:\/\/old\.example\/debian$/m,
      );
    }),
});

Deno.test({
  name: "fetch-linux-source.sh fails cleanly: apt's error, nothing left behind",
  ignore: !HAS_KEYRING,
  fn: () =>
    withRoot(async (root) => {
      await hostSources(root, { "sources.list": "deb http://m.example/debian bookworm main\n" });
      const r = await fetch(root, { FAKE_APT_FAIL: "1" });
      assert.equal(r.code, 1);
      assert.match(r.stderr, /E: Failed to fetch InRelease/);
      assert.match(r.stderr, /apt-get update of sid failed/);
      assert.deepEqual(
        [...Deno.readDirSync(`${root}/cache/linux-source`)].map((e) => e.name),
        [".linux-source-7.2.lock"],
      );
    }),
});

Deno.test("fetch-linux-source.sh refuses a series the table does not list, and no mirror", async () => {
  await withRoot(async (root) => {
    const unknown = await fetch(root, {}, "6.1");
    assert.equal(unknown.code, 2);
    assert.match(
      unknown.stderr,
      /kernel 6\.1 is not fetched from another suite \(setup\/kernel-sources\.txt lists: 7\.2\)/,
    );
    assert.equal((await fetch(root, {}, "")).code, 2);
    if (!HAS_KEYRING) return;
    const noMirror = await fetch(root, {});
    assert.equal(noMirror.code, 1);
    assert.match(noMirror.stderr, /no Debian mirror in .*set VTCIO_DEBIAN_MIRROR/);
  });
});
