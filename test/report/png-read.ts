/**
 * Reads a PNG back for tests: the header fields straight from the bytes (signature, IHDR), and the
 * pixels through pngjs, with a count of pixels of a colour inside a region of the picture.
 */
import { PNG } from 'pngjs';

export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Width and height from the IHDR chunk, which the PNG format requires first after the signature. */
export function ihdr(png: Buffer): { width: number; height: number } | undefined {
  if (png.length < 24 || !png.subarray(0, 8).equals(PNG_SIGNATURE) || png.toString('latin1', 12, 16) !== 'IHDR') return undefined;
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

export type Rgb = [number, number, number];

export function hex(color: string): Rgb {
  const n = Number.parseInt(color.replace('#', ''), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/** `color` at `alpha` over `background`, as a renderer composites it. */
export function over(color: string, alpha: number, background: string): Rgb {
  const [c, b] = [hex(color), hex(background)];
  return [0, 1, 2].map((i) => Math.round(c[i]! * alpha + b[i]! * (1 - alpha))) as Rgb;
}

/** A region in the picture's own pixels. */
export interface Region {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface DecodedPng {
  width: number;
  height: number;
  /** Opaque pixels within `tolerance` of any of `colors` (per channel) inside `region`. */
  count(colors: Rgb[], region?: Region, tolerance?: number): number;
}

export function decodePng(png: Buffer): DecodedPng {
  const image = PNG.sync.read(png);
  return {
    width: image.width,
    height: image.height,
    count(colors, region = { x: 0, y: 0, width: image.width, height: image.height }, tolerance = 6) {
      let n = 0;
      const x0 = Math.max(0, Math.floor(region.x));
      const y0 = Math.max(0, Math.floor(region.y));
      const x1 = Math.min(image.width, Math.ceil(region.x + region.width));
      const y1 = Math.min(image.height, Math.ceil(region.y + region.height));
      for (let y = y0; y < y1; y++) {
        for (let x = x0; x < x1; x++) {
          const i = (y * image.width + x) * 4;
          if (image.data[i + 3]! < 250) continue;
          const px = [image.data[i]!, image.data[i + 1]!, image.data[i + 2]!];
          if (colors.some((c) => c.every((v, k) => Math.abs(v - px[k]!) <= tolerance))) n++;
        }
      }
      return n;
    },
  };
}
