import { readFileSync } from 'node:fs';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Journal } from '../../src/engine/journal-types.js';
import { verifyEvidence, writeEvidence } from '../../src/report/evidence.js';
import { PNG_ZOOM, rasterizeSvg, type Rasterizer, TIMELINE_PNG_FILE } from '../../src/report/timeline-png.js';
import { COLORS, renderTimelineSvg, TIMELINE_FILE } from '../../src/report/timeline-svg.js';
import { writeRunArtifacts } from '../../src/report/write-run-artifacts.js';
import { makeRunDir, passedJournal } from './fixtures.js';
import { decodePng, hex, ihdr, over, PNG_SIGNATURE, type DecodedPng, type Region } from './png-read.js';
import { byKind, parseSvg } from './svg-read.js';

/** The journal of a real db-corruption-pitr run (interrupted in pitr-restore), as the drill wrote it. */
const realJournal = (): Journal => JSON.parse(readFileSync(new URL('../fixtures/run-dir/journal.json', import.meta.url), 'utf8')) as Journal;

async function png(svg: string): Promise<Buffer> {
  const result = await rasterizeSvg(svg);
  if ('reason' in result) throw new Error(`this machine should rasterize: ${result.reason}`);
  return result.png;
}

function viewBox(svg: string): { width: number; height: number } {
  const [, , w, h] = /viewBox="([\d.]+) ([\d.]+) ([\d.]+) ([\d.]+)"/.exec(svg)!.slice(1).map(Number);
  return { width: w!, height: h! };
}

/** An SVG region (user units) in the PNG's pixels. */
const scaled = (r: Region): Region => ({ x: r.x * PNG_ZOOM, y: r.y * PNG_ZOOM, width: r.width * PNG_ZOOM, height: r.height * PNG_ZOOM });

/**
 * What a timeline PNG must show, as problems (none: it shows it): the header's title text in its
 * near-black (#111) and the run's status word in its colour, each as solid glyph pixels where the
 * SVG puts them (the header band above the rows, the status at the top right).
 */
function pictureProblems(image: DecodedPng, statusColor: string): string[] {
  const problems: string[] = [];
  const title = image.count([hex('#111111')], scaled({ x: 0, y: 0, width: 700, height: 24 }));
  if (title < 2000) problems.push(`title text: ${title} dark pixels in the header`);
  const status = image.count([hex(statusColor)], scaled({ x: 800, y: 0, width: 300, height: 24 }));
  if (status < 400) problems.push(`status text: ${status} pixels of ${statusColor} at the top right`);
  return problems;
}

/** Pixels of the RTO uncertainty band (18 % green over either row background) inside the band's own rectangle. */
function bandPixels(image: DecodedPng, svg: string): { found: number; area: number } {
  const band = byKind(parseSvg(svg), 'rto-uncertainty')[0]!;
  const region = scaled({ x: Number(band.attrs.x), y: Number(band.attrs.y), width: Number(band.attrs.width), height: Number(band.attrs.height) });
  const colors = [over(COLORS.band, 0.18, '#ffffff'), over(COLORS.band, 0.18, '#f3f4f5')];
  return { found: image.count(colors, region, 3), area: region.width * region.height };
}

describe('timeline.png', () => {
  it("rasterizes a real run's timeline.svg: a PNG of the SVG's size × PNG_ZOOM whose header text is drawn", async () => {
    const svg = renderTimelineSvg(realJournal());
    const bytes = await png(svg);
    expect(bytes.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
    const box = viewBox(svg);
    expect(ihdr(bytes)).toEqual({ width: box.width * PNG_ZOOM, height: box.height * PNG_ZOOM });
    const image = decodePng(bytes);
    expect([image.width, image.height]).toEqual([box.width * PNG_ZOOM, box.height * PNG_ZOOM]);
    expect(realJournal().status).toBe('interrupted');
    expect(pictureProblems(image, COLORS.warn)).toEqual([]);
  });

  it('negative control: an empty SVG of the same size rasterizes to a blank image that the same check rejects', async () => {
    const { width, height } = viewBox(renderTimelineSvg(realJournal()));
    const blank = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}"></svg>`;
    const bytes = await png(blank);
    expect(ihdr(bytes)).toEqual({ width: width * PNG_ZOOM, height: height * PNG_ZOOM });
    expect(pictureProblems(decodePng(bytes), COLORS.warn)).toHaveLength(2);
  });

  it('draws the RTO uncertainty band where the SVG puts it (and a blank image has none there)', async () => {
    const svg = renderTimelineSvg(passedJournal());
    const image = decodePng(await png(svg));
    expect(pictureProblems(image, COLORS.pass)).toEqual([]);
    const band = bandPixels(image, svg);
    // Probe bars cross the band; what shows between them is the band's colour.
    expect(band.found).toBeGreaterThan(band.area * 0.4);
    const { width, height } = viewBox(svg);
    const blank = decodePng(await png(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="${width}" height="${height}" fill="#fff"/></svg>`));
    expect(bandPixels(blank, svg).found).toBe(0);
  });
});

describe('timeline.png on a machine without fonts', () => {
  it('is refused (resvg would silently draw a picture without its text), with the package to install', async () => {
    const resvg = await import('@resvg/resvg-js');
    // The real rasterizer, told to find no system fonts: what it does on a machine that has none.
    const fontless: Rasterizer = { renderAsync: (svg, options) => resvg.renderAsync(svg, { ...options, font: { loadSystemFonts: false } }) };
    const svg = renderTimelineSvg(realJournal());
    // Unchecked, that machine's PNG has shapes but no text: the check above rejects it.
    const textless = decodePng((await fontless.renderAsync(svg, { fitTo: { mode: 'zoom', value: PNG_ZOOM }, background: '#ffffff' })).asPng());
    expect(pictureProblems(textless, COLORS.warn)).toHaveLength(2);
    const result = await rasterizeSvg(svg, () => Promise.resolve(fontless));
    expect(result).toEqual({ reason: expect.stringContaining('no font to draw the picture') as string });
    expect((result as { reason: string }).reason).toContain('apt-get install fonts-dejavu-core');
  });
});

describe('timeline.png in the run dir', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(dirname(d), { recursive: true, force: true });
  });

  it('is written beside timeline.svg from its text, linked by the incident report, copied into evidence/ and covered by the manifest', async () => {
    const dir = await makeRunDir(realJournal());
    dirs.push(dir);
    await writeRunArtifacts(dir, realJournal());
    const bytes = await readFile(join(dir, TIMELINE_PNG_FILE));
    expect(bytes).toEqual(await png(await readFile(join(dir, TIMELINE_FILE), 'utf8')));
    const report = await readFile(join(dir, 'incident-report.md'), 'utf8');
    expect(report).toMatch(/\]\(timeline\.svg\)\n\nThe same picture as PNG, for tickets: \[timeline\.png\]\(timeline\.png\)\./);

    const manifest = await writeEvidence(dir);
    expect(manifest.entries.map((e) => e.path)).toEqual(expect.arrayContaining(['timeline.png', 'evidence/timeline.png']));
    expect(await readFile(join(dir, 'evidence', TIMELINE_PNG_FILE))).toEqual(bytes);
    expect((await verifyEvidence(dir)).ok).toBe(true);
    // One byte of the compressed image data changed: the manifest no longer matches.
    const edited = Buffer.from(bytes);
    const at = edited.length - 20;
    edited[at] = edited[at]! ^ 0xff;
    await writeFile(join(dir, TIMELINE_PNG_FILE), edited);
    const verdict = await verifyEvidence(dir);
    expect(verdict.ok).toBe(false);
    expect(verdict.problems.map((p) => p.message).join('\n')).toContain('timeline.png');
  });

  it('is skipped when the rasterizer cannot load: the run artifacts are still written, the report says why, the evidence verifies', async () => {
    const dir = await makeRunDir(realJournal());
    dirs.push(dir);
    // The one edge not reachable for real here: a platform without resvg's prebuilt binary.
    const missing = () => Promise.reject(new Error("Cannot find module '@resvg/resvg-js-linux-x64-gnu'\nRequire stack: ..."));
    await writeRunArtifacts(dir, realJournal(), undefined, { loadRasterizer: missing });
    await expect(stat(join(dir, TIMELINE_PNG_FILE))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await readFile(join(dir, TIMELINE_FILE), 'utf8')).toContain('<svg');
    const report = await readFile(join(dir, 'incident-report.md'), 'utf8');
    expect(report).toContain("No timeline.png for this run: the SVG rasterizer (@resvg/resvg-js) could not be loaded on linux/x64: Cannot find module '@resvg/resvg-js-linux-x64-gnu'");
    expect(report).not.toContain('Require stack');
    const manifest = await writeEvidence(dir);
    expect(manifest.entries.map((e) => e.path)).not.toContain('timeline.png');
    expect((await verifyEvidence(dir)).ok).toBe(true);
  });
});
