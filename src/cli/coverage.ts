import { percent } from '../coverage/cells.js';
import { joinCoverage } from '../coverage/join.js';
import { readJournals } from '../coverage/read-journals.js';
import { coverageFormat, renderCoverage } from '../coverage/render.js';
import { parseMinCoverage, parseSince } from '../coverage/since.js';
import { InputError } from '../engine/errors.js';
import { readRunbook, RUNBOOK_HINT } from '../runbook/read-runbook.js';

export interface CoverageOptions {
  runbook?: string;
  reportsDir: string;
  since: string;
  format: string;
  minCoverage?: string;
}

/**
 * `drill coverage --runbook FILE`: the runbook's procedures joined with the journals under
 * --reports-dir. Exit 0, 1 when the covered ratio is below --min-coverage, 2 for bad input (every
 * flag is checked before the runbook and the journals are read), 3 when the reports cannot be read.
 */
export async function coverageCommand(options: CoverageOptions): Promise<number> {
  if (!options.runbook) throw new InputError('RUNBOOK_REQUIRED', `drill coverage needs --runbook <file.md> (or DRILL_RUNBOOK): ${RUNBOOK_HINT}`);
  const format = coverageFormat(options.format);
  const sinceMs = parseSince(options.since);
  const min = options.minCoverage === undefined ? undefined : parseMinCoverage(options.minCoverage);
  const runbook = await readRunbook(options.runbook);
  const { journals, notes } = await readJournals(options.reportsDir);
  const report = joinCoverage(runbook, journals, { now: new Date(), sinceMs, sinceText: options.since, reportsDir: options.reportsDir, readNotes: notes });
  process.stdout.write(renderCoverage(report, format));
  // Also where a person sees it when stdout goes to a file or a dashboard.
  for (const note of report.notes.filter((n) => n.kind === 'no-journals')) console.error(`drill: ${note.message}`);
  if (min !== undefined && report.totals.ratio < min) {
    console.error(`drill: coverage ${percent(report.totals.ratio)} (${report.totals.covered} of ${report.totals.procedures}) is below --min-coverage ${percent(min)}`);
    return 1;
  }
  return 0;
}
