import assert from "node:assert/strict";
import { deflateSync } from "node:zlib";
import { decodePng, distinctColors } from "./png_colors.ts";

function crcless(type: string, data: Uint8Array): Uint8Array {
  // The decoder does not check CRCs, so zeros do.
  const out = new Uint8Array(12 + data.length);
  new DataView(out.buffer).setUint32(0, data.length);
  out.set(new TextEncoder().encode(type), 4);
  out.set(data, 8);
  return out;
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** Encodes RGBA rows, row y filtered with filter y % 5 (so every filter is exercised). */
function encode(width: number, height: number, pixels: Uint8Array): Uint8Array {
  const bpp = 4, stride = width * bpp;
  const rows = new Uint8Array(height * (stride + 1));
  for (let y = 0; y < height; y++) {
    const filter = y % 5;
    rows[y * (stride + 1)] = filter;
    for (let x = 0; x < stride; x++) {
      const cur = pixels[y * stride + x];
      const a = x >= bpp ? pixels[y * stride + x - bpp] : 0;
      const b = y > 0 ? pixels[(y - 1) * stride + x] : 0;
      const c = x >= bpp && y > 0 ? pixels[(y - 1) * stride + x - bpp] : 0;
      const pred = [0, a, b, (a + b) >> 1, paeth(a, b, c)][filter];
      rows[y * (stride + 1) + 1 + x] = (cur - pred) & 0xff;
    }
  }
  const ihdr = new Uint8Array(13);
  const view = new DataView(ihdr.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  ihdr.set([8, 6, 0, 0, 0], 8);
  const parts = [
    new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    crcless("IHDR", ihdr),
    crcless("IDAT", new Uint8Array(deflateSync(rows))),
    crcless("IEND", new Uint8Array()),
  ];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

Deno.test("decodePng() undoes every filter and distinctColors() counts colours", () => {
  const width = 7, height = 10;
  const pixels = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    pixels.set([(i * 37) & 0xff, (i * 91) & 0xff, (i * 13) & 0xff, i % 3 === 0 ? 255 : 128], i * 4);
  }
  const png = decodePng(encode(width, height, pixels));
  assert.equal(png.width, width);
  assert.equal(png.height, height);
  assert.equal(png.channels, 4);
  assert.deepEqual(png.pixels, pixels);
  assert.equal(distinctColors(png), width * height);
  assert.equal(distinctColors(png, 5), 5);
  const blank = decodePng(encode(4, 4, new Uint8Array(64).fill(255)));
  assert.equal(distinctColors(blank), 1);
});

Deno.test("decodePng() refuses what it cannot read", () => {
  assert.throws(() => decodePng(new Uint8Array([1, 2, 3])), /Not a PNG/);
  const png = encode(2, 2, new Uint8Array(16));
  png[8 + 8 + 8] = 16; // bit depth 16
  assert.throws(() => decodePng(png), /bit depth 16/);
});
