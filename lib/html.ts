/**
 * Building HTML safely: the {@linkcode markup} template tag escapes every value it is given
 * unless the value is already {@linkcode SafeHtml} (made by `markup` itself or by
 * {@linkcode raw}). (Not named `html`: deno fmt would reformat such templates, changing the
 * output.)
 *
 * @module
 */

/** HTML that may be inserted as is. */
export class SafeHtml {
  readonly value: string;
  constructor(value: string) {
    this.value = value;
  }
  toString(): string {
    return this.value;
  }
}

/** A value the {@linkcode markup} tag accepts: text is escaped, arrays are joined. */
export type HtmlValue = SafeHtml | string | number | boolean | null | undefined | HtmlValue[];

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Escapes text for an element body or a quoted attribute. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

/** Marks a string as HTML; only for strings made by this program, never for results. */
export function raw(value: string): SafeHtml {
  return new SafeHtml(value);
}

function render(value: HtmlValue): string {
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join("");
  if (value === null || value === undefined || value === false) return "";
  return escapeHtml(String(value));
}

/** Template tag: interpolated values are escaped (see {@linkcode HtmlValue}). */
export function markup(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1];
  return new SafeHtml(out);
}

/**
 * A `<script type="application/json">` holding `data`: `<`, `>`, `&` and the line separators
 * are written as `\u` escapes, so no text inside can close the element.
 */
export function jsonScript(id: string, data: unknown): SafeHtml {
  const json = JSON.stringify(data)
    .replace(/</g, "\\u003c")
    .replace(/>/g, "\\u003e")
    .replace(/&/g, "\\u0026")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
  return markup`<script type="application/json" id="${id}">${raw(json)}</script>`;
}

/** A relative URL path from segments, each percent-encoded. */
export function href(...segments: string[]): string {
  return segments.map((s) => (s === ".." || s === "." ? s : encodeURIComponent(s))).join("/");
}
