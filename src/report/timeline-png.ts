/**
 * timeline.png: the timeline picture (timeline-svg.ts) rasterized, for people who paste it into a
 * ticket or a chat that does not show SVG. Drawn from the very SVG text written beside it (already
 * redacted), so it shows nothing the SVG does not. The SVG stays the evidence: when the rasterizer
 * cannot run (its native module is missing for this platform, or the machine has no font to draw
 * text with), the PNG is skipped with the reason, and the run goes on.
 *
 * The rasterizer is resvg (@resvg/resvg-js: prebuilt native binaries, no browser, works offline),
 * loaded lazily so that a missing binary is an outcome here, not an import error of the reporter.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import createDebug from 'debug';

const log = createDebug('drill:report');

export const TIMELINE_PNG_FILE = 'timeline.png';

/** Pixels per SVG user unit: 2× so text stays sharp on high-density screens and when zoomed in a ticket. */
export const PNG_ZOOM = 2;

/** The family the SVG asks for first (svg.ts FONT); resvg falls back to any sans-serif it finds. */
const FONT_FAMILY = 'DejaVu Sans';

export type PngOutcome = { written: true; file: string } | { written: false; reason: string };

/** The part of @resvg/resvg-js used here (a seam only for the test of a missing native module). */
export interface Rasterizer {
  renderAsync(svg: string, options: Record<string, unknown>): Promise<{ asPng(): Buffer; pixels: Buffer; width: number; height: number }>;
}

export type LoadRasterizer = () => Promise<Rasterizer>;

const loadResvg: LoadRasterizer = async () => (await import('@resvg/resvg-js')) as unknown as Rasterizer;

const OPTIONS = {
  fitTo: { mode: 'zoom', value: PNG_ZOOM },
  background: '#ffffff',
  font: { loadSystemFonts: true, defaultFontFamily: FONT_FAMILY, sansSerifFamily: FONT_FAMILY },
  logLevel: 'off',
};

/** The PNG of an SVG document, or the reason there is none. */
export async function rasterizeSvg(svg: string, load: LoadRasterizer = loadResvg): Promise<{ png: Buffer } | { reason: string }> {
  let resvg: Rasterizer;
  try {
    resvg = await load();
  } catch (error) {
    return { reason: `the SVG rasterizer (@resvg/resvg-js) could not be loaded on ${process.platform}/${process.arch}: ${firstLine(error)}; reinstall with \`npm ci\` (without --omit=optional)` };
  }
  try {
    if (!(await drawsText(resvg))) {
      return { reason: `no font to draw the picture's text with (${FONT_FAMILY} or any sans-serif); install one (Debian: apt-get install fonts-dejavu-core)` };
    }
    return { png: (await resvg.renderAsync(svg, OPTIONS)).asPng() };
  } catch (error) {
    return { reason: `the SVG rasterizer failed: ${firstLine(error)}` };
  }
}

/**
 * Writes `<runDir>/timeline.png` from the timeline SVG text. Never throws for a rasterizer that
 * cannot run: the outcome says why the PNG is missing, for the incident report.
 */
export async function writeTimelinePng(runDir: string, svg: string, load: LoadRasterizer = loadResvg): Promise<PngOutcome> {
  const result = await rasterizeSvg(svg, load);
  if ('reason' in result) {
    log('timeline.png skipped (timeline.svg is the picture): %s', result.reason);
    return { written: false, reason: result.reason };
  }
  const file = path.join(runDir, TIMELINE_PNG_FILE);
  await writeFile(file, result.png);
  log('timeline.png written: %d bytes', result.png.length);
  return { written: true, file };
}

/**
 * resvg draws no text, silently, when it finds no font: a picture without its labels would be
 * misleading, so a one-letter probe is drawn first and must leave dark pixels. Memoized per
 * rasterizer: the machine's fonts do not change during a run.
 */
const textProbes = new WeakMap<Rasterizer, Promise<boolean>>();
function drawsText(resvg: Rasterizer): Promise<boolean> {
  const probe = `<svg xmlns="http://www.w3.org/2000/svg" width="24" height="24"><text x="4" y="20" font-family="${FONT_FAMILY}, sans-serif" font-size="20">H</text></svg>`;
  let drawn = textProbes.get(resvg);
  if (!drawn) {
    drawn = resvg.renderAsync(probe, { ...OPTIONS, fitTo: { mode: 'original' } }).then((image) => {
      const px = image.pixels;
      for (let i = 0; i < px.length; i += 4) if (px[i]! < 128 && px[i + 3]! > 128) return true;
      return false;
    });
    // A failed probe is not remembered: the next picture tries again.
    drawn.catch(() => textProbes.delete(resvg));
    textProbes.set(resvg, drawn);
  }
  return drawn;
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]!;
}
