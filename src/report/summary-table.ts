import { formatDurationBound } from '../scenario/duration.js';
import type { Objective, SuiteEntry, SuiteSummary } from './suite-summary.js';

const STATUS_WORD: Record<SuiteEntry['status'], string> = {
  passed: 'PASSED',
  failed: 'FAILED',
  'invalid-input': 'INVALID INPUT',
  'environment-error': 'ENV ERROR',
  interrupted: 'INTERRUPTED',
  'not-run': 'NOT RUN',
};

/**
 * The table `drill run` prints at the end: one row per drill, measured vs limit. Figures are
 * rounded up (an RTO or RPO is never shown better than measured); the RTO is the conservative
 * upper bound, hence `≤`.
 */
export function summaryTable(summary: SuiteSummary): string {
  const header = ['SCENARIO', 'STATUS', 'RTO (measured/limit)', 'RPO (measured/limit)', 'INTEGRITY', 'DURATION'];
  const rows = summary.drills.map((d) => [
    d.scenario,
    STATUS_WORD[d.status],
    objectiveCell(d.rto, '≤ '),
    objectiveCell(d.rpo, ''),
    d.integrity === 'not-judged' ? '-' : d.integrity,
    d.durationMs === undefined ? '-' : formatDurationBound(d.durationMs, 'up'),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  const c = summary.counts;
  const totals = [
    `${summary.drills.length} drill${summary.drills.length === 1 ? '' : 's'}`,
    `${c.passed} passed`,
    `${c.failed} failed`,
    ...(c['environment-error'] ? [`${c['environment-error']} environment error${c['environment-error'] === 1 ? '' : 's'}`] : []),
    ...(c['invalid-input'] ? [`${c['invalid-input']} invalid input`] : []),
    ...(c.interrupted ? [`${c.interrupted} interrupted`] : []),
    ...(c['not-run'] ? [`${c['not-run']} not run`] : []),
  ];
  return [line(header), ...rows.map(line), `${totals.join(', ')}; exit ${summary.exitCode}`].join('\n');
}

function objectiveCell(o: Objective, prefix: string): string {
  if (o.verdict === 'not-judged' && o.measuredMs === undefined) return '-';
  const measured = o.measuredMs === undefined ? 'not measured' : `${prefix}${formatDurationBound(o.measuredMs, 'up')}`;
  const limit = o.limitMs === undefined ? '' : ` / ${formatDurationBound(o.limitMs, 'down')}`;
  const mark = o.verdict === 'failed' ? ' MISSED' : o.verdict === 'passed' ? ' ok' : '';
  return `${measured}${limit}${mark}`;
}
