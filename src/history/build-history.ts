import { InputError } from '../engine/errors.js';
import { closestMatch } from '../scenario/did-you-mean.js';
import type { ReadRuns } from './read-runs.js';
import type { HistoryReport, ScenarioHistory } from './types.js';

/**
 * Runs grouped by scenario (by name, alphabetically), each scenario's runs oldest first. With
 * `scenario`, only that one; a name no run has is bad input (exit 2) naming the ones there are,
 * because an empty history would read as "never drilled".
 */
export function buildHistory(read: ReadRuns, options: { reportsDir: string; scenario?: string }): HistoryReport {
  const byName = new Map<string, ScenarioHistory>();
  for (const { scenario, title, run } of read.runs) {
    const entry = byName.get(scenario) ?? { scenario, title, runs: [] };
    // The newest run's title: a scenario retitled since keeps one line in the history.
    entry.title = title;
    entry.runs.push(run);
    byName.set(scenario, entry);
  }
  for (const entry of byName.values()) entry.runs.sort((a, b) => a.startedAt.localeCompare(b.startedAt) || a.runId.localeCompare(b.runId));
  const names = [...byName.keys()].sort();
  if (options.scenario !== undefined && !byName.has(options.scenario)) {
    const guess = closestMatch(options.scenario, names);
    const known = names.length ? `scenarios with runs there: ${names.join(', ')}` : 'it holds no drill runs at all';
    throw new InputError(
      'HISTORY_SCENARIO_UNKNOWN',
      `--scenario ${options.scenario}: no run of it in ${options.reportsDir}${guess ? ` — did you mean "${guess}"?` : ''}; ${known}. Give a scenario's name (its \`name:\`), or the --reports-dir its runs were written to`,
    );
  }
  const scenarios = (options.scenario === undefined ? names : [options.scenario]).map((n) => byName.get(n)!);
  const notes = [...read.notes];
  if (scenarios.length === 0) notes.push({ kind: 'no-runs', message: `no drill runs in ${options.reportsDir}: run a drill first (npx drill run <scenario.yaml> --reports-dir ${options.reportsDir})` });
  return { reportsDir: options.reportsDir, ...(options.scenario !== undefined ? { scenario: options.scenario } : {}), scenarios, notes };
}
