/** The larger sections of the incident report: tables and the root cause details. */
import type { CheckName, Journal, Verdict } from '../engine/journal-types.js';
import { formatDurationBound } from '../scenario/duration.js';
import { causesOutage } from '../scenario/fault-effects.js';
import { activityMs, describeFault, serviceOutage, timeline, verdictFor } from './journal-facts.js';
import { type PngOutcome, TIMELINE_PNG_FILE } from './timeline-png.js';
import { TIMELINE_FILE } from './timeline-svg.js';
import { cell, code, duration, NOT_REACHED, offset, plural, ranges } from './markdown.js';

/** Checks whose measured value and limit are milliseconds. */
const TIME_CHECKS: ReadonlySet<CheckName> = new Set(['rto', 'rpo', 'detection', 'revocation']);

function result(v: Verdict | undefined): string {
  if (!v) return 'not judged';
  return v.status === 'passed' ? 'PASS' : '**FAIL**';
}

/** A check's measured value or limit with its unit, so a reader never sees a bare number. */
function verdictNumber(v: Verdict, n: number | undefined, role: 'measured' | 'limit'): string {
  if (n === undefined) return '—';
  if (TIME_CHECKS.has(v.check)) return duration(n);
  switch (v.check) {
    // Judged as "ratio below the limit" on the unrounded ratio; two decimals are enough to read.
    case 'performance':
      return role === 'measured' ? `p99 ${n.toFixed(2)}× baseline` : `below ${n}× baseline`;
    case 'smoke':
      return role === 'measured' ? plural(n, 'failed check') : `${n} failed`;
    default:
      return Number.isInteger(n) ? String(n) : n.toFixed(2);
  }
}

export function measuredVsObjective(journal: Journal): string {
  const def = journal.scenario.definition;
  const m = journal.measurements;
  const integrity = verdictFor(journal, 'integrity');
  // Limits: the verdict's own (what was actually judged), else the scenario's objective.
  const timed = (check: CheckName, label: string, measured: number | undefined, objective: number) => {
    const v = verdictFor(journal, check);
    return [label, duration(measured ?? v?.measured), duration(v?.limit ?? objective), result(v), v?.message ?? '—'];
  };
  // Without a database there is no data to lose: RPO and integrity are not judged, so not shown.
  const hasDatabase = def.targets.postgres !== undefined;
  // The measured RTO is an upper bound (restored between the failing sample before it and it).
  const rto = timed('rto', 'RTO (fault to service restored)', m.rtoMs, def.expect.rto);
  if (m.rtoMs !== undefined) rto[1] = `≤ ${formatDurationBound(m.rtoMs, 'up')}`;
  const rows: string[][] = [
    rto,
    ...(hasDatabase ? [timed('rpo', 'RPO (newest acknowledged write lost)', m.rpoMs, def.expect.rpo)] : []),
    // A leaked credential takes nothing down: no probe can detect it, and detection is not judged.
    ...(causesOutage(def) ? [timed('detection', 'Detection latency', m.detectionLatencyMs, def.detect.timeout)] : []),
    ...(hasDatabase
      ? [[
          'Verified recovery (integrity checks done)',
          duration(m.verifiedRecoveryMs),
          `integrity: ${def.expect.integrity.join(', ')}`,
          result(integrity),
          integrity?.message ?? '—',
        ]]
      : []),
  ];
  const shown = new Set<CheckName>(['rto', 'rpo', 'detection', 'integrity']);
  for (const v of journal.verdicts.filter((x) => !shown.has(x.check))) {
    const row = [v.check, verdictNumber(v, v.measured, 'measured'), verdictNumber(v, v.limit, 'limit'), result(v), v.message];
    // Time-to-revoke is an upper bound, like RTO.
    if (v.check === 'revocation' && m.timeToRevokeMs !== undefined) row[1] = `≤ ${formatDurationBound(m.timeToRevokeMs, 'up')}`;
    rows.push(row);
  }
  return table(['Check', 'Measured', 'Objective', 'Result', 'Detail'], rows);
}

export function timelineSection(journal: Journal, png?: PngOutcome): string {
  const tFault = journal.marks.tFault?.t;
  const note =
    tFault === undefined
      ? `T_fault ${NOT_REACHED}: offsets are from drill start.\n\n`
      : 'Offsets are from T_fault on the run\'s monotonic clock; wall times are UTC.\n\n';
  const lines = timeline(journal).map((row) => {
    const at = row.t === undefined ? '' : ` (${tFault === undefined ? offset(row.t, 0, 'start') : offset(row.t, tFault)})`;
    return `- **${row.wall}**${at}: ${row.event}`;
  });
  // The picture beside the report in the run dir (and in its evidence/ copy): timeline-svg.ts.
  const picture = `![Timeline of the drill: probes, runbook steps, T_fault, detection, restored instant with its uncertainty, verified recovery](${TIMELINE_FILE})\n\n`;
  return picture + pngLine(png) + note + lines.join('\n');
}

/** Where the PNG of the picture is (for pasting into a ticket), or why there is none. */
function pngLine(png: PngOutcome | undefined): string {
  if (png === undefined) return '';
  if (png.written) return `The same picture as PNG, for tickets: [${TIMELINE_PNG_FILE}](${TIMELINE_PNG_FILE}).\n\n`;
  return `No ${TIMELINE_PNG_FILE} for this run: ${png.reason}. ${TIMELINE_FILE} is the picture.\n\n`;
}

export function rootCauseDetails(journal: Journal): string {
  const def = journal.scenario.definition;
  const { marks, measurements: m, canary } = journal;
  const out: string[] = [];
  out.push(
    marks.tFault
      ? `The drill injected ${def.faults.map((f) => code(describeFault(f))).join('; ')}; it was in effect at ${marks.tFault.wall} (T_fault).`
      : `The fault (${def.faults.map((f) => code(describeFault(f))).join('; ')}) was ${NOT_REACHED}: the run stopped before injection.`,
  );
  const outage = serviceOutage(journal);
  if (outage) {
    out.push(
      `Service probes first failed ${duration(outage.firstFail.t - (marks.tFault?.t ?? 0))} after T_fault on ${code(outage.firstFail.probe)}` +
        `${outage.firstFail.error ? ` (${outage.firstFail.error})` : ''}; the last failing sample was on ${code(outage.lastFail.probe)}.`,
    );
  }
  if (journal.error) out.push(`The run ended with ${code(journal.error.code)}: ${journal.error.message}`);
  if (def.targets.postgres === undefined) return out.join('\n\n');
  out.push('### Data loss and integrity');
  const ledger = [
    `- Canary writer: ${canary.attempts} attempts, ${canary.failures} failed, ${plural(canary.acks.length, 'acknowledged write')}; ` +
      (canary.recovered ? `${plural(canary.recovered.rows.length, 'row')} read back from ${code(canary.recovered.instance)}` : `ledger read-back ${NOT_REACHED}`),
    `- Lost acknowledged writes: ${m.lostWrites ?? NOT_REACHED}${m.lostWrites ? ` (ids ${ranges(m.lostRanges)})` : ''}; RPO ${duration(m.rpoMs)}`,
    `- Holes (missing id below a surviving one): ${m.holes ? ranges(m.holes) : NOT_REACHED}`,
    `- Writes acknowledged after T_fault and lost: ${m.lostAfterFault ?? NOT_REACHED}`,
  ];
  if (m.walBytesLost !== undefined) ledger.push(`- WAL bytes lost: ${m.walBytesLost}`);
  out.push(ledger.join('\n'));
  out.push(integrityFacts(journal));
  return out.join('\n\n');
}

function integrityFacts(journal: Journal): string {
  const facts = journal.integrity;
  if (!facts) return `Integrity checks: ${NOT_REACHED}.`;
  const snap = journal.snapshot?.tables ?? {};
  const names = [...new Set([...Object.keys(snap), ...Object.keys(facts.tables)])].sort();
  const rows = names.map((name) => {
    const before = snap[name];
    const after = facts.tables[name];
    const same = before && after ? (before.checksum === after.checksum ? 'yes' : 'no') : '—';
    return [code(name), before ? String(before.rows) : '—', after ? String(after.rows) : '—', same];
  });
  const lines = [
    `Checked on ${code(facts.instance)} at ${facts.checkedAt.wall}` +
      (journal.snapshot ? ` against the snapshot "${journal.snapshot.label}".` : '.'),
    '',
    table(['Table', 'Snapshot rows', 'Recovered rows', 'Checksum identical'], rows),
    '',
    `- amcheck findings: ${facts.amcheck.length ? '' : 'none'}`,
    ...facts.amcheck.map((f) => `  - ${code(f.relation)} ${f.kind}${f.block === undefined ? '' : ` block ${f.block}`}: ${f.message}`),
    `- Page checksum failures: ${facts.pageChecksumFailures}`,
    `- Foreign key violations: ${facts.foreignKeys.filter((fk) => fk.violations > 0).map((fk) => `${code(fk.constraint)} on ${code(fk.table)}: ${fk.violations}`).join(', ') || 'none'}`,
    `- Checks that could not run: ${facts.errors.map((e) => `${e.check}: ${e.message}`).join('; ') || 'none'}`,
  ];
  return lines.join('\n');
}

export function recoverySteps(journal: Journal): string {
  const planned = journal.scenario.definition.recovery;
  const rows = journal.steps.map((s, i) => {
    const notes = s.error ? `${s.error.code}: ${s.error.message}` : s.output ? compact(s.output) : '';
    return [String(i + 1), code(s.name), s.title, s.status, duration(activityMs(s)), notes];
  });
  // Planned steps the run never reached, so a reader sees the whole procedure.
  planned.slice(journal.steps.length).forEach((p, j) => {
    rows.push([String(journal.steps.length + j + 1), code(p.step), p.title ?? '', NOT_REACHED, '—', '']);
  });
  return table(['#', 'Step', 'Title', 'Status', 'Duration', 'Notes'], rows);
}

/** A step's output on one line, capped: the journal keeps it whole. */
function compact(output: Record<string, unknown>): string {
  const text = JSON.stringify(output);
  return text.length > 300 ? `${text.slice(0, 297)}...` : text;
}

/** A Markdown table; cells are escaped here, once. */
function table(header: string[], rows: string[][]): string {
  return [header, header.map(() => '---'), ...rows].map((r) => `| ${r.map(cell).join(' | ')} |`).join('\n');
}
