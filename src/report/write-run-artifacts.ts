import { rename, writeFile } from 'node:fs/promises';
import type { Journal } from '../engine/journal-types.js';
import { runFiles } from '../engine/run-plan.js';
import { renderIncidentReport } from './incident-report.js';
import { redactSecrets } from './redact.js';

/** journal.json and incident-report.md of a finished drill, secrets redacted. */
export async function writeRunArtifacts(runDir: string, journal: Journal): Promise<void> {
  const files = runFiles(runDir);
  // Written whole or not at all: a second Ctrl-C mid-write must not leave half a journal.
  await writeFile(`${files.journal}.tmp`, redactSecrets(`${JSON.stringify(journal, null, 2)}\n`));
  await rename(`${files.journal}.tmp`, files.journal);
  await writeFile(files.incidentReport, renderIncidentReport(journal));
}
