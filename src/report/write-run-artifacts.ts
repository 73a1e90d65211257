import { rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Journal } from '../engine/journal-types.js';
import { runFiles } from '../engine/run-plan.js';
import { renderIncidentReport } from './incident-report.js';
import { Redactor } from './redactor.js';
import { type LoadRasterizer, writeTimelinePng } from './timeline-png.js';
import { renderTimelineSvg, TIMELINE_FILE } from './timeline-svg.js';

export interface RunArtifactOptions {
  /** The SVG rasterizer behind timeline.png (tests of a machine without it). */
  loadRasterizer?: LoadRasterizer;
}

/**
 * journal.json, timeline.svg, timeline.png (the same picture rasterized, when this machine can)
 * and incident-report.md (which shows the picture and says when the PNG is missing) of a finished
 * drill, through the run's Redactor. Returns the journal as written, which is what anything else
 * built from it afterwards (Allure attachments, the test's failure message) should use.
 */
export async function writeRunArtifacts(runDir: string, journal: Journal, redactor: Redactor = new Redactor(), options: RunArtifactOptions = {}): Promise<Journal> {
  const files = runFiles(runDir);
  const text = `${redactor.json(journal, 2)}\n`;
  // Written whole or not at all: a second Ctrl-C mid-write must not leave half a journal.
  await writeFile(`${files.journal}.tmp`, text);
  await rename(`${files.journal}.tmp`, files.journal);
  const written = JSON.parse(text) as Journal;
  const svg = redactor.redact(renderTimelineSvg(written));
  await writeFile(path.join(runDir, TIMELINE_FILE), svg);
  // From the redacted SVG text: the PNG can show nothing the SVG does not.
  const png = await writeTimelinePng(runDir, svg, options.loadRasterizer);
  await writeFile(files.incidentReport, renderIncidentReport(written, (t) => redactor.redact(t), { timelinePng: png }));
  return written;
}
