import { rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Journal } from '../engine/journal-types.js';
import { runFiles } from '../engine/run-plan.js';
import { renderIncidentReport } from './incident-report.js';
import { Redactor } from './redactor.js';
import { renderTimelineSvg, TIMELINE_FILE } from './timeline-svg.js';

/**
 * journal.json, timeline.svg and incident-report.md (which shows the picture) of a finished drill,
 * through the run's Redactor. Returns the
 * journal as written, which is what anything else built from it afterwards (Allure attachments,
 * the test's failure message) should use.
 */
export async function writeRunArtifacts(runDir: string, journal: Journal, redactor: Redactor = new Redactor()): Promise<Journal> {
  const files = runFiles(runDir);
  const text = `${redactor.json(journal, 2)}\n`;
  // Written whole or not at all: a second Ctrl-C mid-write must not leave half a journal.
  await writeFile(`${files.journal}.tmp`, text);
  await rename(`${files.journal}.tmp`, files.journal);
  const written = JSON.parse(text) as Journal;
  await writeFile(path.join(runDir, TIMELINE_FILE), redactor.redact(renderTimelineSvg(written)));
  await writeFile(files.incidentReport, renderIncidentReport(written, (t) => redactor.redact(t)));
  return written;
}
