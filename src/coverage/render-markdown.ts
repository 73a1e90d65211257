import { cell, code } from '../report/markdown.js';
import { drillsText, lastRunText, negativeControlText, NOT_RECORDED_LEGEND, objectiveText, resultText, sectionRows, sectionTitle, sinceText, statusText, totalsText } from './cells.js';
import type { CoverageReport } from './types.js';

/** `--format md`: for a wiki, a pull request or the evidence pack. */
export function renderMarkdown(report: CoverageReport): string {
  const out: string[] = [];
  out.push(`# Runbook coverage: ${cell(report.runbook.title ?? report.runbook.file)}`, '');
  out.push(`- Runbook: ${code(report.runbook.file)} (sha256 ${code(report.runbook.sha256)})`);
  out.push(`- History: ${code(report.reportsDir)}, ${report.runsRead} judged run(s); ${sinceText(report)}`);
  out.push(`- Generated: ${report.generatedAt}`, '');
  out.push(`**Coverage: ${totalsText(report.totals)}**`);
  if (report.procedures.some((p) => p.textCheck === 'not-recorded')) out.push('', cell(NOT_RECORDED_LEGEND));
  for (const { section, rows } of sectionRows(report)) {
    out.push('', `## ${cell(sectionTitle(section))}`, '');
    out.push('| Status | Procedure | Drills | Last run | Result | RTO / objective | RPO / objective |', '|---|---|---|---|---|---|---|');
    for (const p of rows) {
      out.push(
        `| ${cell(statusText(p))} | ${cell(p.title)}<br>${code(p.id.split('#')[1]!)} | ${cell(drillsText(p))} | ${lastRunText(p)} | ${resultText(p)} | ${cell(objectiveText(p.last?.rto, 'rto'))} | ${cell(objectiveText(p.last?.rpo, 'rpo'))} |`,
      );
    }
  }
  const never = report.procedures.filter((p) => p.status === 'never-drilled');
  if (never.length > 0) {
    out.push('', `## Never drilled (${never.length})`, '');
    for (const p of never) out.push(`- ${code(p.id)} (line ${p.line})`);
  }
  if (report.negativeControls.length > 0) {
    out.push('', '## Negative controls', '');
    for (const n of report.negativeControls) out.push(`- ${cell(negativeControlText(n))}`);
  }
  if (report.notes.length > 0) {
    out.push('', '## Notes', '');
    for (const n of report.notes) out.push(`- ${cell(`${n.scenario ? `${n.scenario}: ` : ''}${n.message}${n.suggestion ? ` (did you mean "${n.suggestion}"?)` : ''}`)}`);
  }
  return `${out.join('\n')}\n`;
}
