import { drillsText, lastRunText, negativeControlText, NOT_RECORDED_LEGEND, objectiveText, percent, resultText, sectionRows, sectionTitle, sinceText, statusText, totalsText } from './cells.js';
import type { CoverageReport } from './types.js';

/**
 * `--format html`: one self-contained page (inline CSS, no script, no external asset), so it can be
 * attached to a ticket, archived with evidence or opened offline.
 */
export function renderHtml(report: CoverageReport): string {
  const title = `Runbook coverage: ${report.runbook.title ?? report.runbook.file}`;
  const t = report.totals;
  const bar = (['covered', 'stale', 'failing', 'changed', 'never-drilled'] as const)
    .map((status) => {
      const n = report.procedures.filter((p) => p.status === status).length;
      return n === 0 ? '' : `<span class="seg ${status}" style="width:${((n / Math.max(1, t.procedures)) * 100).toFixed(2)}%" title="${esc(`${status}: ${n}`)}"></span>`;
    })
    .join('');
  const sections = sectionRows(report)
    .map(
      ({ section, rows }) => `<section>
<h2>${esc(sectionTitle(section))}</h2>
<table>
<colgroup><col style="width:13%"><col style="width:29%"><col style="width:17%"><col style="width:11%"><col style="width:7%"><col style="width:12%"><col style="width:11%"></colgroup>
<thead><tr><th>Status</th><th>Procedure</th><th>Drills</th><th>Last run</th><th>Result</th><th>RTO / objective</th><th>RPO / objective</th></tr></thead>
<tbody>
${rows
  .map(
    (p) =>
      `<tr><td><span class="badge ${p.status}">${esc(statusText(p))}</span></td><td>${esc(p.title)}<div class="id">${esc(p.id)}</div></td><td>${esc(drillsText(p))}</td>` +
      `<td>${esc(lastRunText(p))}${p.last ? `<div class="id">${esc(p.last.runId)}</div>` : ''}</td><td>${esc(resultText(p))}</td><td>${esc(objectiveText(p.last?.rto, 'rto'))}</td><td>${esc(objectiveText(p.last?.rpo, 'rpo'))}</td></tr>`,
  )
  .join('\n')}
</tbody>
</table>
</section>`,
    )
    .join('\n');
  const never = report.procedures.filter((p) => p.status === 'never-drilled');
  const list = (heading: string, items: string[]) => (items.length === 0 ? '' : `<section><h2>${esc(heading)}</h2><ul>${items.map((i) => `<li>${esc(i)}</li>`).join('')}</ul></section>`);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:1200px;padding:0 1rem;color:#1d2430}
h1{font-size:1.5rem;margin-bottom:.25rem}h2{font-size:1.05rem;margin:1.75rem 0 .5rem}
.meta{color:#556;margin:.1rem 0}.summary{font-size:1.1rem;margin:1rem 0 .4rem;font-weight:600}
.bar{display:flex;height:14px;border-radius:7px;overflow:hidden;background:#e8ebf0;margin-bottom:.5rem}
.seg{display:block;height:100%}
table{border-collapse:collapse;width:100%;table-layout:fixed}th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #e3e6eb;vertical-align:top;overflow-wrap:anywhere}
th{font-size:.8rem;text-transform:uppercase;letter-spacing:.03em;color:#556}
.id{font:11px ui-monospace,SFMono-Regular,Menlo,monospace;color:#778;word-break:break-all}
.badge{display:inline-block;padding:.05rem .45rem;border-radius:.6rem;font-size:.8rem;color:#fff}
.covered{background:#1f8a4c}.stale{background:#b7791f}.failing{background:#c53030}.changed{background:#6b46c1}.never-drilled{background:#718096}
ul{margin:.25rem 0;padding-left:1.25rem}li{margin:.15rem 0}
</style>
</head>
<body>
<h1>${esc(title)}</h1>
<p class="meta">Runbook <code>${esc(report.runbook.file)}</code> (sha256 <code>${esc(report.runbook.sha256.slice(0, 16))}</code>)</p>
<p class="meta">History <code>${esc(report.reportsDir)}</code>: ${report.runsRead} judged run(s); ${esc(sinceText(report))}. Generated ${esc(report.generatedAt)}.</p>
<p class="summary">Coverage ${esc(percent(t.ratio))}: ${esc(totalsText(t))}</p>
<div class="bar" role="img" aria-label="${esc(totalsText(t))}">${bar}</div>
${report.procedures.some((p) => p.textCheck === 'not-recorded') ? `<p class="meta">${esc(NOT_RECORDED_LEGEND)}</p>` : ''}
${sections}
${list(`Never drilled (${never.length})`, never.map((p) => `${p.id} (line ${p.line})`))}
${list('Negative controls', report.negativeControls.map(negativeControlText))}
${list('Notes', report.notes.map((n) => `${n.scenario ? `${n.scenario}: ` : ''}${n.message}${n.suggestion ? ` (did you mean "${n.suggestion}"?)` : ''}`))}
</body>
</html>
`;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Every text from the runbook or a journal is data, never markup. */
function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

