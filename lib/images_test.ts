import { assertEquals } from "./test_assert.ts";
import { scenarioFiles } from "./images.ts";

Deno.test("images: scenario scripts go to /etc/vtcio/scenarios in name order, others are left out", async () => {
  const repo = await Deno.makeTempDir();
  try {
    const dir = `${repo}/guest-images/l1/scenarios`;
    await Deno.mkdir(dir, { recursive: true });
    await Deno.writeTextFile(`${dir}/zeta.sh`, "finish 0\n");
    await Deno.writeTextFile(`${dir}/alpha.sh`, "finish 0\n");
    await Deno.writeTextFile(`${dir}/README`, "not a scenario\n");
    assertEquals(scenarioFiles(repo, "l1"), [
      { from: `${dir}/alpha.sh`, to: "etc/vtcio/scenarios/alpha.sh", mode: 0o644 },
      { from: `${dir}/zeta.sh`, to: "etc/vtcio/scenarios/zeta.sh", mode: 0o644 },
    ]);
    assertEquals(scenarioFiles(repo, "busybox"), []);
  } finally {
    await Deno.remove(repo, { recursive: true });
  }
});
