import assert from "node:assert/strict";
import { run } from "./proc.ts";

const INIT = new URL("../guest-images/l1/init", import.meta.url).pathname;

/** Runs L1 init's own arg() and qarg() on `cmdline` instead of /proc/cmdline. */
async function initArg(cmdline: string, fn: "arg" | "qarg", name: string): Promise<string> {
  const text = await Deno.readTextFile(INIT);
  const arg = text.match(/^arg\(\) \{\n[\s\S]*?\n\}$/m)?.[0];
  const qarg = text.match(/^qarg\(\) \{.*\}$/m)?.[0];
  assert.ok(arg && qarg, "guest-images/l1/init defines arg() and qarg()");
  const dir = await Deno.makeTempDir({ prefix: "vtcio-l1-init-" });
  try {
    await Deno.writeTextFile(`${dir}/cmdline`, cmdline + "\n");
    const script = [arg, qarg].join("\n").replaceAll("/proc/cmdline", `${dir}/cmdline`);
    const r = await run("sh", ["-c", `${script}\n${fn} "$1"`, "sh", name]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.trim();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("L1 init: arg() reads L1's own words, never one inside L2's quoted command line", async () => {
  const l2Only = 'console=ttyS0 vtcio.l2_smp=2 vtcio.l2_append="vtcio.scenario=agent x=1" ' +
    'vtcio.l2_qemu="-device vtcio.l2_smp=9"';
  assert.equal(await initArg(l2Only, "arg", "scenario"), "");
  assert.equal(await initArg(l2Only, "arg", "l2_smp"), "2");
  assert.equal(await initArg(l2Only, "qarg", "l2_append"), "vtcio.scenario=agent x=1");
  assert.equal(await initArg(l2Only, "qarg", "l2_qemu"), "-device vtcio.l2_smp=9");
  const both = `${l2Only} vtcio.scenario=fuzz`;
  assert.equal(await initArg(both, "arg", "scenario"), "fuzz");
  const before = `vtcio.scenario=two-guests ${l2Only}`;
  assert.equal(await initArg(before, "arg", "scenario"), "two-guests");
});
