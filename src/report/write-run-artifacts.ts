import { writeFile } from 'node:fs/promises';
import type { Journal } from '../engine/journal-types.js';
import { runFiles } from '../engine/run-plan.js';
import { renderIncidentReport } from './incident-report.js';
import { redactSecrets } from './redact.js';

/** journal.json and incident-report.md of a finished drill, secrets redacted. */
export async function writeRunArtifacts(runDir: string, journal: Journal): Promise<void> {
  const files = runFiles(runDir);
  await writeFile(files.journal, redactSecrets(`${JSON.stringify(journal, null, 2)}\n`));
  await writeFile(files.incidentReport, renderIncidentReport(journal));
}
