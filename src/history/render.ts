/** The four outputs of `drill history`: an aligned text table, Markdown and HTML with trend charts, JSON. */
import { InputError } from '../engine/errors.js';
import { cell } from '../report/markdown.js';
import { xml } from '../report/svg.js';
import { COLUMNS, row, summaryText } from './cells.js';
import { renderTrendSvg } from './trend-svg.js';
import type { HistoryReport } from './types.js';

export const HISTORY_FORMATS = ['text', 'md', 'html', 'json'] as const;
export type HistoryFormat = (typeof HISTORY_FORMATS)[number];

export function historyFormat(text: string): HistoryFormat {
  const format = HISTORY_FORMATS.find((f) => f === text);
  if (!format) throw new InputError('FORMAT_INVALID', `--format "${text}": give one of ${HISTORY_FORMATS.join(', ')}`);
  return format;
}

export function renderHistory(report: HistoryReport, format: HistoryFormat): string {
  switch (format) {
    case 'text':
      return renderText(report);
    case 'md':
      return renderMarkdown(report);
    case 'html':
      return renderHtml(report);
    case 'json':
      return `${JSON.stringify(report, null, 2)}\n`;
  }
}

const MEANING =
  'RTO is the measured upper bound (the service was seen restored then; it was still seen failing at the lower bound), rounded up; MISSED: the run failed that check. Limits are the ones each run was judged by.';

function renderText(report: HistoryReport): string {
  const out = [`RTO and RPO history: ${report.reportsDir}${report.scenario ? ` (scenario ${report.scenario})` : ''}`, MEANING];
  for (const s of report.scenarios) {
    out.push('', `${s.scenario} — ${s.title}`, `  ${summaryText(s)}`);
    out.push(...table([[...COLUMNS], ...s.runs.map(row)]));
  }
  out.push(...notes(report).map((n, i) => (i === 0 ? `\n${n}` : n)));
  return `${out.join('\n')}\n`;
}

function renderMarkdown(report: HistoryReport): string {
  const out = [`# RTO and RPO history: ${report.reportsDir}${report.scenario ? ` (scenario \`${report.scenario}\`)` : ''}`, '', MEANING];
  for (const s of report.scenarios) {
    out.push('', `## \`${s.scenario}\` — ${cell(s.title)}`, '', summaryText(s), '');
    out.push(`| ${COLUMNS.join(' | ')} |`, `|${COLUMNS.map(() => '---').join('|')}|`);
    for (const r of s.runs) out.push(`| ${row(r).map(cell).join(' | ')} |`);
    // Inline SVG: rendered by viewers that allow it (VS Code, most Markdown-to-HTML tools); GitHub strips it.
    for (const chart of [renderTrendSvg(s, 'rto'), renderTrendSvg(s, 'rpo')]) if (chart) out.push('', chart.trimEnd());
  }
  const n = notes(report);
  if (n.length) out.push('', '## Notes', '', ...n.slice(1).map((line) => `- ${line.trim()}`));
  return `${out.join('\n')}\n`;
}

function renderHtml(report: HistoryReport): string {
  const sections = report.scenarios.map((s) => {
    const rows = s.runs.map((r) => `<tr>${row(r).map((c) => `<td${/MISSED/.test(c) ? ' class="missed"' : ''}>${xml(c)}</td>`).join('')}</tr>`).join('\n');
    const charts = [renderTrendSvg(s, 'rto'), renderTrendSvg(s, 'rpo')].filter((c) => c !== undefined).join('\n');
    return `<section><h2>${xml(s.scenario)} — ${xml(s.title)}</h2><p>${xml(summaryText(s))}</p>
<table><thead><tr>${COLUMNS.map((c) => `<th>${xml(c)}</th>`).join('')}</tr></thead><tbody>
${rows}
</tbody></table>
<div class="charts">${charts}</div></section>`;
  });
  const n = notes(report);
  const noteList = n.length ? `<section><h2>Notes</h2><ul>${n.slice(1).map((line) => `<li>${xml(line.trim())}</li>`).join('')}</ul></section>` : '';
  const heading = `RTO and RPO history: ${report.reportsDir}${report.scenario ? ` (scenario ${report.scenario})` : ''}`;
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>${xml(heading)}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1em}
td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left;font-size:.9em}
th{background:#f3f4f5}
td.missed{color:#d0342c;font-weight:bold}
.charts svg{margin-right:1em;vertical-align:top}
</style></head>
<body><h1>${xml(heading)}</h1><p>${xml(MEANING)}</p>
${sections.join('\n')}
${noteList}
</body></html>
`;
}

/** "Notes:" and one indented line per note, or nothing. */
function notes(report: HistoryReport): string[] {
  return report.notes.length ? ['Notes:', ...report.notes.map((n) => `  ${n.message}`)] : [];
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((r) => r[column]!.length)));
  return rows.map((r) => `  ${r.map((value, column) => (column === r.length - 1 ? value : value.padEnd(widths[column]!))).join('  ')}`.trimEnd());
}
