import type { Journal } from '../engine/journal-types.js';

/** One line per failed check (or the error that stopped the drill), for test failures and the CLI. */
export function summariseVerdicts(journal: Journal): string {
  const lines: string[] = [];
  if (journal.error) lines.push(`${journal.status}: ${journal.error.message}`);
  for (const v of journal.verdicts) if (v.status === 'failed') lines.push(`${v.check} failed: ${v.message}`);
  return lines.join('\n') || `drill ${journal.status}`;
}
