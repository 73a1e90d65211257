import type { Command } from 'commander';
import { buildHistory } from '../history/build-history.js';
import { readRuns } from '../history/read-runs.js';
import { HISTORY_FORMATS, historyFormat, renderHistory } from '../history/render.js';

export interface HistoryOptions {
  reportsDir: string;
  scenario?: string;
  format: string;
}

/**
 * `drill history`: RTO and RPO per scenario over the runs under --reports-dir, with the limits each
 * run was judged by. Exit 0 written (also with run dirs it could not read: they are listed, on
 * stderr too), 2 bad input (--format, an unknown --scenario, a reports dir that does not exist),
 * 3 a reports dir that cannot be read.
 */
export async function historyCommand(options: HistoryOptions): Promise<number> {
  const format = historyFormat(options.format);
  const read = await readRuns(options.reportsDir);
  const report = buildHistory(read, { reportsDir: options.reportsDir, ...(options.scenario !== undefined ? { scenario: options.scenario } : {}) });
  process.stdout.write(renderHistory(report, format));
  // Also where a person sees them when stdout goes to a file or a dashboard.
  for (const note of report.notes) console.error(`drill: ${note.message}`);
  return 0;
}

export function registerHistoryCommand(program: Command, setExitCode: (code: number) => void): void {
  program
    .command('history')
    .description('RTO and RPO of each scenario over its past runs (reports/*/journal.json), against the limits; exit 0, 2 invalid input, 3 environment')
    .option('--reports-dir <dir>', 'where the runs are (reports/<run-id>/journal.json)', 'reports')
    .option('--scenario <name>', "only this scenario (its `name:`)")
    .option('--format <format>', `output: ${HISTORY_FORMATS.join(' | ')} (md and html with trend charts)`, 'text')
    .action(async (opts: HistoryOptions) => {
      setExitCode(await historyCommand(opts));
    });
}
