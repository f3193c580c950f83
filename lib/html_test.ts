import assert from "node:assert/strict";
import { escapeHtml, href, jsonScript, markup, raw } from "./html.ts";

Deno.test("markup`` escapes every interpolated value unless it is SafeHtml", () => {
  const reason = `<script>alert("x")</script> & 'quotes'`;
  const out = markup`<p title="${reason}">${reason}${raw("<b>ok</b>")}${[
    markup`<i>${"<"}</i>`,
    1,
  ]}</p>`;
  assert.equal(
    out.value,
    '<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quotes&#39;">' +
      "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quotes&#39;<b>ok</b><i>&lt;</i>1</p>",
  );
  assert.equal(markup`${null}${undefined}${false}${0}`.value, "0");
  assert.equal(escapeHtml("a&b"), "a&amp;b");
});

Deno.test("jsonScript() cannot be closed by the data it holds", () => {
  const data = { reason: "</script><script>alert(1)</script>", amp: "&", ls: "\u2028" };
  const out = jsonScript("d", data).value;
  assert.ok(!out.slice(0, -"</script>".length).includes("</script"));
  const body = out.replace(/^<script[^>]*>/, "").replace(/<\/script>$/, "");
  assert.deepEqual(JSON.parse(body), data);
});

Deno.test("href() percent-encodes each segment", () => {
  assert.equal(href("..", "cells", "a b#?.html"), "../cells/a%20b%23%3F.html");
});
