/**
 * A tiny PNG decoder, enough to tell whether a screenshot shows something: 8-bit grey, grey with
 * alpha, RGB, RGBA or palette images, not interlaced (what Chromium writes).
 *
 * @module
 */

import { inflateSync } from "node:zlib";

/** A decoded image: `pixels` holds `channels` bytes per pixel, rows top to bottom. */
export interface DecodedPng {
  width: number;
  height: number;
  /** 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA (palette images are expanded to RGB). */
  channels: number;
  pixels: Uint8Array;
}

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/**
 * Decodes a PNG file.
 *
 * @throws {Error} for anything that is not a PNG this decoder handles
 */
export function decodePng(bytes: Uint8Array): DecodedPng {
  if (bytes.length < 8 || SIGNATURE.some((b, i) => bytes[i] !== b)) {
    throw new Error("Not a PNG file");
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let width = 0, height = 0, colorType = -1, palette: Uint8Array | undefined;
  const idat: Uint8Array[] = [];
  for (let at = 8; at + 8 <= bytes.length;) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    const data = bytes.subarray(at + 8, at + 8 + length);
    if (data.length !== length) throw new Error(`Truncated PNG chunk ${type}`);
    if (type === "IHDR") {
      width = view.getUint32(at + 8);
      height = view.getUint32(at + 12);
      const depth = data[8];
      colorType = data[9];
      if (depth !== 8 || CHANNELS[colorType] === undefined) {
        throw new Error(
          `PNG with bit depth ${depth} and colour type ${colorType} is not supported`,
        );
      }
      if (data[12] !== 0) throw new Error("Interlaced PNG is not supported");
    } else if (type === "PLTE") {
      palette = data;
    } else if (type === "IDAT") {
      idat.push(data);
    } else if (type === "IEND") {
      break;
    }
    at += 12 + length;
  }
  if (width === 0 || height === 0) throw new Error("PNG without IHDR");
  const packed = new Uint8Array(idat.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const chunk of idat) {
    packed.set(chunk, offset);
    offset += chunk.length;
  }
  const raw = new Uint8Array(inflateSync(packed));
  const bpp = CHANNELS[colorType];
  const stride = width * bpp;
  if (raw.length < height * (stride + 1)) throw new Error("PNG image data is too short");
  const out = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const row = out.subarray(y * stride, (y + 1) * stride);
    const up = y > 0 ? out.subarray((y - 1) * stride, y * stride) : new Uint8Array(stride);
    for (let x = 0; x < stride; x++) {
      const a = x >= bpp ? row[x - bpp] : 0;
      const b = up[x];
      const c = x >= bpp ? up[x - bpp] : 0;
      let predictor: number;
      switch (filter) {
        case 0:
          predictor = 0;
          break;
        case 1:
          predictor = a;
          break;
        case 2:
          predictor = b;
          break;
        case 3:
          predictor = (a + b) >> 1;
          break;
        case 4:
          predictor = paeth(a, b, c);
          break;
        default:
          throw new Error(`Unknown PNG filter ${filter} on row ${y}`);
      }
      row[x] = (line[x] + predictor) & 0xff;
    }
  }
  if (colorType !== 3) return { width, height, channels: bpp, pixels: out };
  if (palette === undefined) throw new Error("Palette PNG without PLTE");
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < out.length; i++) rgb.set(palette.subarray(out[i] * 3, out[i] * 3 + 3), i * 3);
  return { width, height, channels: 3, pixels: rgb };
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** How many different colours (alpha included) an image has, counting up to `limit`. */
export function distinctColors(png: DecodedPng, limit = Infinity): number {
  const seen = new Set<number>();
  const { channels, pixels } = png;
  for (let i = 0; i < pixels.length && seen.size < limit; i += channels) {
    let key = 0;
    for (let k = 0; k < channels; k++) key = key * 256 + pixels[i + k];
    seen.add(key);
  }
  return seen.size;
}
