import assert from "node:assert/strict";
import { CHROMIUM_ARGS, DEFAULT_CHROMIUM, findChromium, withChromium } from "./browser.ts";

Deno.test("findChromium() names what is missing, honours VTCIO_CHROMIUM", () => {
  const before = Deno.env.get("VTCIO_CHROMIUM");
  try {
    Deno.env.set("VTCIO_CHROMIUM", "/nonexistent/chromium");
    const found = findChromium();
    assert.ok("missing" in found);
    assert.match(found.missing, /\/nonexistent\/chromium not found/);
    Deno.env.set("VTCIO_CHROMIUM", "/");
    assert.deepEqual(findChromium(), { missing: "/ is not a file" });
  } finally {
    if (before === undefined) Deno.env.delete("VTCIO_CHROMIUM");
    else Deno.env.set("VTCIO_CHROMIUM", before);
  }
  assert.ok(CHROMIUM_ARGS.includes("--disable-background-networking"));
});

Deno.test("withChromium() refuses to start without a browser", async () => {
  await assert.rejects(
    () => withChromium(() => Promise.resolve(1), { path: "/nonexistent/chromium" }),
    /nonexistent/,
  );
});

const chromium = findChromium();
if ("missing" in chromium) console.log(`browser_test: skipped the launch, ${chromium.missing}`);

Deno.test({
  name: `withChromium() runs ${DEFAULT_CHROMIUM} offline and removes its profile`,
  ignore: "missing" in chromium,
  fn: async () => {
    const text = await withChromium(async (context) => {
      const page = await context.newPage();
      await page.setContent("<p id=x>✔ pass</p>");
      return await page.locator("#x").innerText();
    });
    assert.equal(text, "✔ pass");
  },
});
