import { drillsText, lastRunText, negativeControlText, NOT_RECORDED_LEGEND, objectiveText, resultText, sectionRows, sectionTitle, sinceText, statusText, totalsText } from './cells.js';
import type { CoverageReport } from './types.js';

const HEADER = ['STATUS', 'PROCEDURE', 'DRILLS', 'LAST RUN', 'RESULT', 'RTO / OBJECTIVE', 'RPO / OBJECTIVE'];

/** `--format text` (the default): one aligned table per runbook section, then the totals and lists. */
export function renderText(report: CoverageReport): string {
  const out: string[] = [];
  out.push(`Runbook coverage: ${report.runbook.title ?? report.runbook.file}`);
  out.push(`  runbook  ${report.runbook.file} (sha256 ${report.runbook.sha256.slice(0, 12)})`);
  out.push(`  history  ${report.reportsDir}: ${report.runsRead} judged run(s); ${sinceText(report)}`);
  for (const { section, rows } of sectionRows(report)) {
    out.push('', sectionTitle(section));
    out.push(...table([HEADER, ...rows.map((p) => [statusText(p), p.title, drillsText(p), lastRunText(p), resultText(p), objectiveText(p.last?.rto, 'rto'), objectiveText(p.last?.rpo, 'rpo')])]));
  }
  out.push('', `Coverage: ${totalsText(report.totals)}`);
  if (report.procedures.some((p) => p.textCheck === 'not-recorded')) out.push(NOT_RECORDED_LEGEND);
  const never = report.procedures.filter((p) => p.status === 'never-drilled');
  if (never.length > 0) {
    out.push('', `Never drilled (${never.length}):`);
    for (const p of never) out.push(`  ${p.id}  (line ${p.line})`);
  }
  const attention = report.procedures.filter((p) => p.status === 'failing' || p.status === 'changed');
  if (attention.length > 0) {
    out.push('', 'Failing or changed since drilled:');
    for (const p of attention) out.push(`  ${p.id}: ${statusText(p)} (${p.last?.scenario}, run ${p.last?.runId})`);
  }
  if (report.negativeControls.length > 0) {
    out.push('', 'Negative controls (count for no procedure):');
    for (const n of report.negativeControls) out.push(`  ${negativeControlText(n)}`);
  }
  if (report.notes.length > 0) {
    out.push('', 'Notes:');
    for (const n of report.notes) out.push(`  ${n.scenario ? `${n.scenario}: ` : ''}${n.message}${n.suggestion ? ` — did you mean "${n.suggestion}"?` : ''}`);
  }
  return `${out.join('\n')}\n`;
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((r) => r[column]!.length)));
  return rows.map((r) => `  ${r.map((value, column) => (column === r.length - 1 ? value : value.padEnd(widths[column]!))).join('  ')}`.trimEnd());
}
