/**
 * Reads drill's SVG pictures back for tests: elements with their attributes, the root's time axis,
 * and a well-formedness check (every tag closed in order), without a browser or an XML library.
 */
import { expect } from 'vitest';

export interface SvgElement {
  tag: string;
  attrs: Record<string, string>;
}

const TAG = /<(\/?)([a-zA-Z][\w-]*)((?:\s+[\w:-]+="[^"]*")*)\s*(\/?)>/g;
const ATTR = /([\w:-]+)="([^"]*)"/g;

function unescape(value: string): string {
  return value.replace(/&(amp|lt|gt|quot|apos);/g, (_, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" })[e]!);
}

/** Every element (opening or self-closing tag), in document order; throws when tags do not nest. */
export function parseSvg(svg: string): SvgElement[] {
  const out: SvgElement[] = [];
  const open: string[] = [];
  // Text between tags must hold no raw '<' (an unescaped one would break every viewer).
  const stripped = svg.replace(TAG, '');
  expect(stripped.includes('<'), 'unescaped < in text').toBe(false);
  for (const [, closing, tag, attrText, selfClosing] of svg.matchAll(TAG)) {
    if (closing) {
      expect(open.pop(), `</${tag}> closes the wrong element`).toBe(tag);
      continue;
    }
    const attrs: Record<string, string> = {};
    for (const [, k, v] of attrText!.matchAll(ATTR)) attrs[k!] = unescape(v!);
    out.push({ tag: tag!, attrs });
    if (!selfClosing) open.push(tag!);
  }
  expect(open, 'unclosed elements').toEqual([]);
  return out;
}

export function byKind(elements: SvgElement[], kind: string): SvgElement[] {
  return elements.filter((e) => e.attrs['data-kind'] === kind);
}

/** The x a time must be drawn at, from the axis the root declares. */
export function axisOf(elements: SvgElement[]): (t: number) => number {
  const root = elements.find((e) => e.tag === 'svg')!;
  const [t0, t1, x0, x1] = ['data-t-start', 'data-t-end', 'data-x-start', 'data-x-end'].map((k) => Number(root.attrs[k]));
  expect([t0, t1, x0, x1].every(Number.isFinite), 'the root declares its time axis').toBe(true);
  return (t: number) => x0! + ((t - t0!) / (t1! - t0!)) * (x1! - x0!);
}

/** x of an element: `x` for rects and text, `x1` for lines. */
export function xOf(e: SvgElement): number {
  return Number(e.attrs.x ?? e.attrs.x1);
}
