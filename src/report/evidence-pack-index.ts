/**
 * The index of an evidence pack, for an auditor without drill: which runs evidence which control
 * (the scenarios' `compliance:`), each with its date, result, RTO and RPO measured against the
 * objective, and the signature that was verified when the pack was made. Markdown, a
 * self-contained HTML page (no script, no external asset; links into the pack) and JSON.
 */
import { limitText, measuredText, statusText } from '../history/cells.js';
import type { HistoryRun } from '../history/types.js';
import { cell } from './markdown.js';
import { xml } from './svg.js';

export interface PackedRun {
  run: HistoryRun;
  scenario: string;
  title: string;
  /** The scenario's `compliance:` controls. */
  controls: string[];
  /** Where its files are inside the pack, relative to the index. */
  dir: string;
  /** The manifest's hash-chain root and the signer's key fingerprint, as verified at pack time. */
  root: string;
  signer: string;
  files: number;
  /** The run has timeline.png (a machine that could not rasterize has only timeline.svg). */
  png?: boolean;
}

export interface PackIndex {
  createdAt: string;
  /** The fingerprint of the public key every run was verified with. */
  verifiedWith: string;
  runs: PackedRun[];
  /** Control → run ids, controls sorted; runs that name none under NO_CONTROL. */
  controls: Array<{ control: string; runIds: string[] }>;
}

export const NO_CONTROL = '(no control named)';

export function packIndex(runs: PackedRun[], createdAt: string, verifiedWith: string): PackIndex {
  const sorted = [...runs].sort((a, b) => a.run.startedAt.localeCompare(b.run.startedAt) || a.run.runId.localeCompare(b.run.runId));
  const byControl = new Map<string, string[]>();
  for (const r of sorted) for (const c of r.controls.length ? [...new Set(r.controls)] : [NO_CONTROL]) byControl.set(c, [...(byControl.get(c) ?? []), r.run.runId]);
  const names = [...byControl.keys()].sort((a, b) => (a === NO_CONTROL ? 1 : b === NO_CONTROL ? -1 : a.localeCompare(b)));
  return { createdAt, verifiedWith, runs: sorted, controls: names.map((control) => ({ control, runIds: byControl.get(control)! })) };
}

const COLUMNS = ['Run', 'Scenario', 'Started (UTC)', 'Result', 'RTO measured', 'RTO objective', 'RPO measured', 'RPO objective', 'Files'];

function cells(r: PackedRun): string[] {
  return [
    r.run.runId,
    r.scenario,
    r.run.startedAt.replace('T', ' ').replace(/\.\d+Z$|Z$/, ''),
    statusText(r.run),
    measuredText(r.run.rto, 'rto'),
    limitText(r.run.rto),
    measuredText(r.run.rpo, 'rpo'),
    limitText(r.run.rpo),
    `${r.dir}/`,
  ];
}

const HOW_TO_VERIFY = [
  'Every run below was verified before it was packed: each file against its manifest (sha256, hash chain) and the manifest against its Ed25519 signature, with the public key named above. To check a run again without drill (OpenSSL 3), with the signer\'s public key obtained from the signer (not from this pack):',
  '',
  '```bash',
  'cd runs/<run-id>',
  'base64 -d evidence/manifest.sig > /tmp/manifest.sig.bin',
  'openssl pkeyutl -verify -pubin -inkey signer.pub -rawin -in evidence/manifest.json -sigfile /tmp/manifest.sig.bin',
  'openssl pkey -pubin -in signer.pub -outform DER | sha256sum   # = the fingerprint above',
  'sha256sum -c <(python3 -c \'import json;[print(e["sha256"]+"  "+e["path"]) for e in json.load(open("evidence/manifest.json"))["entries"]]\')',
  '```',
  '',
  'or with drill: `npx drill verify-evidence runs/<run-id> --public-key signer.pub`.',
];

export function renderPackMarkdown(index: PackIndex): string {
  const byId = new Map(index.runs.map((r) => [r.run.runId, r]));
  const out = [
    '# Recovery drill evidence',
    '',
    `Packed ${index.createdAt}. ${index.runs.length} signed drill run(s), each verified with the public key \`${index.verifiedWith}\`.`,
    'RTO is the measured upper bound, rounded up; MISSED: the run failed that check against its objective.',
    '',
    '## By control',
  ];
  for (const { control, runIds } of index.controls) {
    out.push('', `### ${control}`, '', `| ${COLUMNS.join(' | ')} |`, `|${COLUMNS.map(() => '---').join('|')}|`);
    for (const id of runIds) out.push(`| ${cells(byId.get(id)!).map(cell).join(' | ')} |`);
  }
  out.push('', '## Runs', '');
  for (const r of index.runs) {
    out.push(
      `- **${r.run.runId}** — ${r.scenario}: ${r.title}. Controls: ${r.controls.join(', ') || 'none named'}. Manifest root \`${r.root}\`, signed by \`${r.signer}\`, ${r.files} files. ` +
        `[incident report](${r.dir}/incident-report.md), [timeline](${r.dir}/timeline.svg)${r.png ? ` ([PNG](${r.dir}/timeline.png))` : ''}, [journal](${r.dir}/journal.json).`,
    );
  }
  out.push('', '## How to verify', '', ...HOW_TO_VERIFY);
  return `${out.join('\n')}\n`;
}

export function renderPackHtml(index: PackIndex): string {
  const byId = new Map(index.runs.map((r) => [r.run.runId, r]));
  const table = (ids: string[]) =>
    `<table><thead><tr>${COLUMNS.map((c) => `<th>${xml(c)}</th>`).join('')}</tr></thead><tbody>${ids
      .map((id) => {
        const r = byId.get(id)!;
        return `<tr>${cells(r)
          .map((c, i) => (i === 0 ? `<td><a href="#${xml(id)}">${xml(c)}</a></td>` : `<td${/MISSED/.test(c) ? ' class="missed"' : ''}>${xml(c)}</td>`))
          .join('')}</tr>`;
      })
      .join('\n')}</tbody></table>`;
  const controls = index.controls.map(({ control, runIds }) => `<section><h3>${xml(control)}</h3>${table(runIds)}</section>`).join('\n');
  const runs = index.runs
    .map(
      (r) => `<section id="${xml(r.run.runId)}"><h3>${xml(r.run.runId)}</h3>
<p>${xml(r.scenario)}: ${xml(r.title)}. Controls: ${xml(r.controls.join(', ') || 'none named')}. Manifest root <code>${xml(r.root)}</code>, signed by <code>${xml(r.signer)}</code>, ${r.files} files.
<a href="${xml(r.dir)}/incident-report.md">incident report</a> · <a href="${xml(r.dir)}/journal.json">journal</a>${r.png ? ` · <a href="${xml(r.dir)}/timeline.png">timeline PNG</a>` : ''} · <a href="${xml(r.dir)}/evidence/manifest.json">manifest</a></p>
<img src="${xml(r.dir)}/timeline.svg" alt="timeline of ${xml(r.run.runId)}" width="1100"></section>`,
    )
    .join('\n');
  const verify = HOW_TO_VERIFY.filter((l) => !l.startsWith('```'))
    .map((l) => (l.startsWith('cd ') || l.startsWith('base64') || l.startsWith('openssl') || l.startsWith('sha256sum') ? `<pre>${xml(l)}</pre>` : l ? `<p>${xml(l)}</p>` : ''))
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Recovery drill evidence</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:1200px}
table{border-collapse:collapse;margin:.5em 0 1em}
td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left;font-size:.9em}
th{background:#f3f4f5}
td.missed{color:#d0342c;font-weight:bold}
pre{background:#f6f7f8;padding:.4em;overflow-x:auto}
img{max-width:100%;border:1px solid #ddd}
</style></head>
<body><h1>Recovery drill evidence</h1>
<p>Packed ${xml(index.createdAt)}. ${index.runs.length} signed drill run(s), each verified with the public key <code>${xml(index.verifiedWith)}</code>. RTO is the measured upper bound, rounded up; MISSED: the run failed that check against its objective.</p>
<h2>By control</h2>
${controls}
<h2>Runs</h2>
${runs}
<h2>How to verify</h2>
${verify}
</body></html>
`;
}
