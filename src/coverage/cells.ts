/** The words and numbers every coverage format shows, so text, Markdown and HTML say the same. */
import { formatDuration, formatDurationBound } from '../scenario/duration.js';
import type { CoverageReport, CoverageStatus, CoverageTotals, Objective, ProcedureCoverage, SectionCoverage } from './types.js';

export const STATUS_LABEL: Record<CoverageStatus, string> = {
  covered: 'covered',
  stale: 'stale',
  failing: 'FAILING',
  changed: 'changed since drilled',
  'never-drilled': 'never drilled',
};

/** Marks a status whose drill recorded no runbook text, so a change since cannot be seen. */
export const NOT_RECORDED_MARK = '*';
export const NOT_RECORDED_LEGEND = `${NOT_RECORDED_MARK} drilled without --runbook: whether the procedure's text changed since is not known`;

export function statusText(p: ProcedureCoverage): string {
  return STATUS_LABEL[p.status] + (p.textCheck === 'not-recorded' ? NOT_RECORDED_MARK : '');
}

export function drillsText(p: ProcedureCoverage): string {
  return p.drills.length === 0 ? '-' : p.drills.join(', ');
}

/** `2025-09-21 12:00Z`: minutes are enough to find the run; the run id is in the JSON. */
export function lastRunText(p: ProcedureCoverage): string {
  return p.last ? `${p.last.endedAt.slice(0, 10)} ${p.last.endedAt.slice(11, 16)}Z` : '-';
}

export function resultText(p: ProcedureCoverage): string {
  return p.last?.status ?? '-';
}

/**
 * `≤ 41.3s / 15m met`: the measured RTO is an upper bound, rounded up like every report rounds it;
 * the RPO too is rounded up (never shown better than measured). The verdict is the drill's own.
 */
export function objectiveText(o: Objective | undefined, kind: 'rto' | 'rpo'): string {
  if (!o) return '-';
  const measured = o.measuredMs === undefined ? 'not measured' : `${kind === 'rto' ? '≤ ' : ''}${formatDurationBound(o.measuredMs, 'up')}`;
  const verdict = o.verdict === 'passed' ? ' met' : o.verdict === 'failed' ? ' MISSED' : '';
  return `${measured} / ${formatDuration(o.objectiveMs)}${verdict}`;
}

export function sectionTitle(section: SectionCoverage): string {
  return section.path.join(' › ');
}

export function percent(ratio: number): string {
  return `${(Math.floor(ratio * 1000) / 10).toFixed(1)}%`;
}

/** `12 of 66 procedures covered (18.1%); 1 stale, 2 failing, 0 changed since drilled, 51 never drilled`. Rounded down. */
export function totalsText(t: CoverageTotals): string {
  return `${t.covered} of ${t.procedures} procedures covered (${percent(t.ratio)}); ${t.stale} stale, ${t.failing} failing, ${t.changed} changed since drilled, ${t.neverDrilled} never drilled`;
}

/** The sections that hold procedures, each with its rows. */
export function sectionRows(report: CoverageReport): Array<{ section: SectionCoverage; rows: ProcedureCoverage[] }> {
  const byId = new Map(report.procedures.map((p) => [p.id, p]));
  return report.sections.filter((s) => s.procedures.length > 0).map((section) => ({ section, rows: section.procedures.map((id) => byId.get(id)!) }));
}

export function negativeControlText(n: CoverageReport['negativeControls'][number]): string {
  return n.asExpected
    ? `${n.scenario}: failed as a negative control must (run ${n.runId})`
    : `${n.scenario}: PASSED, but a negative control must fail: the harness did not catch the bad recovery it stages (run ${n.runId})`;
}

export function sinceText(report: CoverageReport): string {
  return `covered = a passing drill within ${report.since.text} (since ${report.since.from.slice(0, 16)}Z)`;
}
