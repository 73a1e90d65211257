/** The cells every text format of `drill history` shares, so text, Markdown and HTML say the same. */
import { formatDuration, formatDurationBound } from '../scenario/duration.js';
import type { HistoryRun, Measured, ScenarioHistory } from './types.js';

export const COLUMNS = ['STARTED (UTC)', 'RUN', 'STATUS', 'RTO', 'RTO LIMIT', 'RPO', 'RPO LIMIT', 'LOST WRITES'] as const;

/** `2025-05-01 10:00:00`. */
export function startedText(run: HistoryRun): string {
  return run.startedAt.replace('T', ' ').replace(/\.\d+Z$|Z$/, '');
}

export function statusText(run: HistoryRun): string {
  return run.error ? `${run.status} (${run.error})` : run.status;
}

/**
 * RTO as measured: an upper bound, rounded up, so a history never shows a run faster than it was
 * seen (`≤ 578ms`); `MISSED` when the run failed the check. `—` when the run never got there.
 */
export function measuredText(m: Measured | undefined, kind: 'rto' | 'rpo'): string {
  if (!m) return 'n/a';
  if (m.measuredMs === undefined) return m.verdict === 'failed' ? 'not reached MISSED' : '—';
  const value = kind === 'rto' ? `≤ ${formatDurationBound(m.measuredMs, 'up')}` : formatDuration(m.measuredMs);
  return m.verdict === 'failed' ? `${value} MISSED` : value;
}

export function limitText(m: Measured | undefined): string {
  return m ? formatDuration(m.limitMs) : 'n/a';
}

export function row(run: HistoryRun): string[] {
  return [
    startedText(run),
    run.runId,
    statusText(run),
    measuredText(run.rto, 'rto'),
    limitText(run.rto),
    measuredText(run.rpo, 'rpo'),
    limitText(run.rpo),
    run.lostWrites === undefined ? '—' : String(run.lostWrites),
  ];
}

/**
 * One line on where the scenario stands: its runs, how many passed, and the newest measured RTO
 * against the one before it (a slower recovery is the early warning a future failure gives late).
 */
export function summaryText(history: ScenarioHistory): string {
  const runs = history.runs;
  const passed = runs.filter((r) => r.status === 'passed').length;
  const measured = runs.filter((r) => r.rto.measuredMs !== undefined);
  const parts = [`${runs.length} run(s), ${passed} passed`];
  const worst = measured.reduce<HistoryRun | undefined>((w, r) => (!w || r.rto.measuredMs! > w.rto.measuredMs! ? r : w), undefined);
  if (worst) parts.push(`worst RTO ≤ ${formatDurationBound(worst.rto.measuredMs!, 'up')} (${worst.runId})`);
  const [previous, latest] = measured.slice(-2);
  if (previous && latest) {
    const delta = latest.rto.measuredMs! - previous.rto.measuredMs!;
    parts.push(delta === 0 ? 'latest RTO as before' : `latest RTO ${delta > 0 ? 'slower' : 'faster'} by ${formatDuration(Math.abs(delta))} than the run before`);
  }
  return parts.join('; ');
}
