/**
 * The timeline picture of one drill (timeline.svg in its run dir, attached to its Allure result
 * and shown in its incident report): probe samples per probe, the canary's acknowledged and lost
 * writes, each runbook step as a span, and the instants of DESIGN.md section 4 — T_fault,
 * detection, the restored instant with its uncertainty band, verified recovery — plus the RTO
 * objective and, when it was missed, the breach.
 *
 * Description only, from the journal: the restored instant is drawn where it was measured
 * (T_fault + rtoMs, the upper bound) and the band only extends it to earlier times it may have
 * been (rtoLowerBoundMs); nothing here puts the restoration earlier than the measurement.
 *
 * Every drawn fact carries `data-kind` and `data-t` (ms on the run's monotonic clock; spans also
 * `data-t-end`), and the root carries its time axis (`data-t-start`, `data-t-end`, `data-x-start`,
 * `data-x-end`), so a test or a tool can read the picture back.
 */
import type { ActivityRecord, ActivityStatus, Journal, ProbeSample } from '../engine/journal-types.js';
import { formatDuration, formatDurationBound } from '../scenario/duration.js';
import { analyseLedger } from '../assertions/ledger.js';
import { rtoStatement, verdictFor } from './journal-facts.js';
import { offset, plural, ranges } from './markdown.js';
import { el, linearScale, px, svgDocument, text, textWidth, tickStep, title, type Scale } from './svg.js';

export const TIMELINE_FILE = 'timeline.svg';

const WIDTH = 1100;
const LEFT = 200;
const RIGHT = 40;
const ROW = 22;
const BAR = 12;
const LABEL_LINE = 14;
const LABEL_LINES = 4;

export const COLORS = {
  pass: '#2e9d48',
  fail: '#d0342c',
  warn: '#e08a00',
  muted: '#9aa0a6',
  fault: '#111111',
  detected: '#e08a00',
  restored: '#2e9d48',
  verified: '#1f6fd1',
  limit: '#d0342c',
  band: '#2e9d48',
  breach: '#d0342c',
} as const;

const STEP_COLOR: Record<ActivityStatus, string> = {
  passed: COLORS.pass,
  failed: COLORS.fail,
  error: COLORS.warn,
  interrupted: COLORS.warn,
  skipped: COLORS.muted,
  running: COLORS.muted,
};

interface Mark {
  kind: string;
  t: number;
  label: string;
  color: string;
  dash?: string;
}

interface Row {
  label: string;
  draw: (y: number, x: Scale) => string[];
}

/** The picture, as SVG text. Callers writing it to disk pass it through the run's Redactor. */
export function renderTimelineSvg(journal: Journal): string {
  const def = journal.scenario.definition;
  const { marks, measurements: m } = journal;
  const tFault = marks.tFault?.t;
  const rtoVerdict = verdictFor(journal, 'rto');
  const rtoLimit = rtoVerdict?.limit ?? def.expect.rto;
  const restoredAt = tFault !== undefined && m.rtoMs !== undefined ? tFault + m.rtoMs : undefined;
  const lowerAt = tFault !== undefined && m.rtoLowerBoundMs !== undefined ? tFault + m.rtoLowerBoundMs : undefined;

  const steps = [...journal.steps, ...(journal.verifications ?? [])];
  const lost = lostWriteSpans(journal);
  const times = [
    ...journal.probes.map((p) => p.t),
    ...steps.flatMap((s) => [s.start.t, ...(s.end ? [s.end.t] : [])]),
    ...Object.values(marks).map((s) => s.t),
    ...lost.flatMap((l) => [l.from, l.to]),
    ...(restoredAt === undefined ? [] : [restoredAt]),
  ];
  let t0 = times.length ? Math.min(...times) : 0;
  let t1 = times.length ? Math.max(...times) : 1000;
  // The objective is drawn when it falls inside what happened; a missed one always does (restored
  // after it). A generous objective far past the run would squash the picture into its left edge.
  const limitAt = tFault === undefined ? undefined : tFault + rtoLimit;
  const limitShown = limitAt !== undefined && limitAt <= t1;
  if (t1 - t0 < 1000) t1 = t0 + 1000;
  const pad = (t1 - t0) * 0.01;
  t0 -= pad;
  t1 += pad;
  const x = linearScale([t0, t1], [LEFT, WIDTH - RIGHT]);

  const marksList: Mark[] = [];
  if (tFault !== undefined) marksList.push({ kind: 't-fault', t: tFault, label: 'T_fault', color: COLORS.fault });
  if (marks.tDetected) marksList.push({ kind: 'detected', t: marks.tDetected.t, label: `detected ${offset(marks.tDetected.t, tFault ?? 0)}`, color: COLORS.detected });
  if (restoredAt !== undefined) {
    marksList.push({ kind: 'restored', t: restoredAt, label: `restored, RTO ≤ ${formatDurationBound(m.rtoMs!, 'up')}`, color: COLORS.restored });
  }
  if (marks.tVerified) marksList.push({ kind: 'verified', t: marks.tVerified.t, label: `verified recovery ${offset(marks.tVerified.t, tFault ?? 0)}`, color: COLORS.verified });
  if (limitShown) marksList.push({ kind: 'rto-limit', t: limitAt, label: `RTO objective ${formatDuration(rtoLimit)}`, color: COLORS.limit, dash: '6 3' });

  const rows: Row[] = [
    ...probeRows(journal),
    ...(journal.canary.acks.length || lost.length ? [canaryRow(journal, lost)] : []),
    ...steps.map((s) => stepRow(s, t1)),
  ];

  const headerH = 56;
  const labelsTop = headerH;
  const rowsTop = labelsTop + LABEL_LINES * LABEL_LINE + 6;
  const rowsBottom = rowsTop + Math.max(rows.length, 1) * ROW;
  const axisY = rowsBottom + 4;
  const legendY = axisY + 34;
  const height = legendY + 42;

  const body: string[] = [];
  body.push(...header(journal, rtoLimit));
  rows.forEach((row, i) => {
    const y = rowsTop + i * ROW;
    body.push(el('rect', { x: 0, y, width: WIDTH, height: ROW, fill: i % 2 ? '#f3f4f5' : '#ffffff' }));
    body.push(text({ x: LEFT - 8, y: y + ROW / 2 + 4, 'text-anchor': 'end', fill: '#333' }, clip(row.label, 30)));
  });
  // Behind the bars: the uncertainty band, then the breach.
  if (restoredAt !== undefined && lowerAt !== undefined && lowerAt < restoredAt) {
    body.push(
      el(
        'rect',
        { 'data-kind': 'rto-uncertainty', 'data-t': lowerAt, 'data-t-end': restoredAt, x: x(lowerAt), y: rowsTop, width: Math.max(x(restoredAt) - x(lowerAt), 1), height: rowsBottom - rowsTop, fill: COLORS.band, 'fill-opacity': 0.18 },
        title(`restored somewhere in here: ${rtoStatement(journal)}`),
      ),
    );
  }
  if (rtoVerdict?.status === 'failed' && limitAt !== undefined && limitShown) {
    const end = restoredAt ?? t1;
    body.push(
      el(
        'rect',
        { 'data-kind': 'rto-breach', 'data-t': limitAt, 'data-t-end': end, x: x(limitAt), y: rowsTop, width: Math.max(x(end) - x(limitAt), 1), height: rowsBottom - rowsTop, fill: COLORS.breach, 'fill-opacity': 0.12 },
        title(`RTO breach: ${rtoVerdict.message}`),
      ),
    );
    const label =
      restoredAt === undefined
          ? `RTO MISSED: not restored by the end of the run (objective ${formatDuration(rtoLimit)})`
          : `RTO MISSED: ≤ ${formatDurationBound(m.rtoMs!, 'up')} measured, objective ${formatDuration(rtoLimit)}`;
    // Inside the plot: from the objective rightwards when it fits, else ending at the plot's edge.
    const fits = x(limitAt) + 4 + textWidth(label) < WIDTH - RIGHT;
    body.push(
      text(
        { 'data-kind': 'rto-breach-label', x: fits ? x(limitAt) + 4 : WIDTH - RIGHT - 4, y: rowsBottom - 6, fill: COLORS.breach, 'font-weight': 'bold', 'text-anchor': fits ? 'start' : 'end' },
        label,
      ),
    );
  }
  rows.forEach((row, i) => {
    const y = rowsTop + i * ROW;
    body.push(...row.draw(y + (ROW - BAR) / 2, x));
  });
  body.push(...markLines(marksList, x, labelsTop, rowsBottom));
  body.push(...axis(x, tFault ?? 0, tFault === undefined ? 'start' : 'T', axisY));
  body.push(...legend(legendY));
  if (!rows.length) body.push(text({ x: LEFT, y: rowsTop + 15, fill: '#666' }, 'nothing was recorded: the run stopped before any probe sampled'));
  if (limitAt !== undefined && !limitShown) {
    body.push(text({ 'data-kind': 'rto-limit-offscale', x: LEFT, y: legendY + 32, fill: COLORS.limit, 'font-size': 10 }, `RTO objective ${formatDuration(rtoLimit)} (T_fault+${formatDuration(rtoLimit)}) is past the right edge of this picture.`));
  }

  return svgDocument(
    WIDTH,
    height,
    {
      role: 'img',
      'aria-label': `Timeline of drill ${journal.runId}`,
      'data-run-id': journal.runId,
      'data-t-start': px(t0),
      'data-t-end': px(t1),
      'data-x-start': LEFT,
      'data-x-end': WIDTH - RIGHT,
    },
    body,
  );
}

function header(journal: Journal, rtoLimit: number): string[] {
  const def = journal.scenario.definition;
  const m = journal.measurements;
  const status = (journal.status ?? 'incomplete').toUpperCase();
  const color = journal.status === 'passed' ? COLORS.pass : journal.status === 'failed' ? COLORS.fail : COLORS.warn;
  const rto = rtoStatement(journal) ?? 'RTO not measured';
  const rpo = m.rpoMs === undefined ? '' : `   RPO ${formatDuration(m.rpoMs)} (objective ${formatDuration(def.expect.rpo)})`;
  const lost = m.lostWrites ? `   ${plural(m.lostWrites, 'acknowledged write')} lost (ids ${ranges(m.lostRanges)})` : '';
  return [
    text({ x: 12, y: 18, 'font-size': 14, 'font-weight': 'bold', fill: '#111' }, `${def.name} — ${def.title}`),
    text({ 'data-kind': 'status', x: WIDTH - RIGHT, y: 18, 'font-size': 14, 'font-weight': 'bold', fill: color, 'text-anchor': 'end' }, status),
    text({ x: 12, y: 34, fill: '#333' }, `${journal.runId}   ${rto} (objective ${formatDuration(rtoLimit)})`),
    text({ x: 12, y: 48, fill: '#333' }, `${rpo}${lost}`.trim()),
  ];
}

/** One row per probe, service probes first; consecutive samples of one outcome drawn as one bar. */
function probeRows(journal: Journal): Row[] {
  const byProbe = new Map<string, ProbeSample[]>();
  for (const p of [...journal.probes].sort((a, b) => a.t - b.t)) byProbe.set(p.probe, [...(byProbe.get(p.probe) ?? []), p]);
  const names = [...byProbe.keys()].sort((a, b) => Number(byProbe.get(b)![0]!.service) - Number(byProbe.get(a)![0]!.service));
  return names.map((name) => {
    const samples = byProbe.get(name)!;
    const service = samples[0]!.service;
    return {
      label: `${service ? 'probe' : 'probe (info)'} ${name}`,
      draw: (y, x) => {
        const out: string[] = [];
        for (const run of sampleRuns(samples)) {
          const end = run.next?.t ?? run.last.t;
          const failing = !run.first.ok;
          const tip = `${name}: ${run.count} ${failing ? 'failing' : 'passing'} sample${run.count === 1 ? '' : 's'} from ${formatDuration(run.first.t)} to ${formatDuration(run.last.t)} after drill start${failing && run.first.error ? ` — ${run.first.error}` : ''}`;
          out.push(
            el(
              'rect',
              {
                'data-kind': failing ? 'probe-fail' : 'probe-pass',
                'data-probe': name,
                'data-t': run.first.t,
                'data-t-end': end,
                'data-samples': run.count,
                x: x(run.first.t),
                y,
                width: Math.max(x(end) - x(run.first.t), 2),
                height: BAR,
                fill: failing ? COLORS.fail : COLORS.pass,
                'fill-opacity': service ? 0.9 : 0.45,
              },
              title(tip),
            ),
          );
        }
        return out;
      },
    };
  });
}

interface SampleRun {
  first: ProbeSample;
  last: ProbeSample;
  /** The first sample of the next run: the outcome changed somewhere between `last` and it. */
  next?: ProbeSample;
  count: number;
}

function sampleRuns(samples: ProbeSample[]): SampleRun[] {
  const runs: SampleRun[] = [];
  for (const s of samples) {
    const current = runs.at(-1);
    if (current && current.first.ok === s.ok) {
      current.last = s;
      current.count++;
    } else {
      if (current) current.next = s;
      runs.push({ first: s, last: s, count: 1 });
    }
  }
  return runs;
}

interface LostSpan {
  from: number;
  to: number;
  epoch: number;
  ids: [number, number];
  count: number;
}

/**
 * Lost writes as spans of their acknowledgement times, one per run of consecutive ids in one epoch.
 * By id AND epoch, as the RPO assertion counts them: after a switch the writer continues from the
 * highest id that survived, so a lost id can be acknowledged again (and survive) in the next epoch.
 */
function lostWriteSpans(journal: Journal): LostSpan[] {
  const recovered = journal.canary.recovered;
  if (!recovered) return [];
  const out: LostSpan[] = [];
  for (const ack of analyseLedger(journal.canary.acks, recovered.rows).lost) {
    const last = out.at(-1);
    if (last && last.epoch === ack.epoch && last.ids[1] === ack.id - 1) {
      last.ids[1] = ack.id;
      last.from = Math.min(last.from, ack.tAck);
      last.to = Math.max(last.to, ack.tAck);
      last.count++;
    } else {
      out.push({ from: ack.tAck, to: ack.tAck, epoch: ack.epoch, ids: [ack.id, ack.id], count: 1 });
    }
  }
  return out;
}

/** Acknowledged canary writes as bars (a gap of more than a second splits them), lost ones on top in red. */
function canaryRow(journal: Journal, lost: LostSpan[]): Row {
  return {
    label: 'canary writes (acked)',
    draw: (y, x) => {
      const out: string[] = [];
      const acks = [...journal.canary.acks].sort((a, b) => a.tAck - b.tAck);
      let start = acks[0];
      let prev = acks[0];
      let count = 0;
      const flush = () => {
        if (!start || !prev) return;
        out.push(
          el(
            'rect',
            { 'data-kind': 'writes-acked', 'data-t': start.tAck, 'data-t-end': prev.tAck, x: x(start.tAck), y: y + 3, width: Math.max(x(prev.tAck) - x(start.tAck), 2), height: BAR - 6, fill: COLORS.muted },
            title(`${plural(count, 'acknowledged write')} (ids ${start.id}–${prev.id})`),
          ),
        );
      };
      for (const ack of acks) {
        if (prev && ack.tAck - prev.tAck > 1000) {
          flush();
          start = ack;
          count = 0;
        }
        prev = ack;
        count++;
      }
      flush();
      for (const span of lost) {
        out.push(
          el(
            'rect',
            { 'data-kind': 'lost-writes', 'data-t': span.from, 'data-t-end': span.to, x: x(span.from) - 1, y: y - 2, width: Math.max(x(span.to) - x(span.from), 1) + 2, height: BAR + 4, fill: COLORS.fail },
            title(`${plural(span.count, 'acknowledged write')} LOST (ids ${ranges([span.ids])} of writer epoch ${span.epoch}), acknowledged between ${formatDuration(span.from)} and ${formatDuration(span.to)} after drill start`),
          ),
        );
      }
      return out;
    },
  };
}

function stepRow(step: ActivityRecord, tEnd: number): Row {
  return {
    label: `step ${step.name}`,
    draw: (y, x) => {
      const end = step.end?.t ?? tEnd;
      const took = step.end ? formatDuration(step.end.t - step.start.t) : 'never ended';
      const width = Math.max(x(end) - x(step.start.t), 2);
      const label = `${step.status} ${took}`;
      const labelX = width > textWidth(label, 10) + 6 ? x(step.start.t) + 3 : x(step.start.t) + width + 3;
      return [
        el(
          'rect',
          {
            'data-kind': 'step',
            'data-step': step.name,
            'data-status': step.status,
            'data-t': step.start.t,
            'data-t-end': end,
            x: x(step.start.t),
            y,
            width,
            height: BAR,
            fill: STEP_COLOR[step.status],
            'fill-opacity': 0.85,
            ...(step.end ? {} : { 'stroke-dasharray': '3 2', stroke: '#555' }),
          },
          title(`${step.title}: ${step.status}, ${took}${step.error ? ` — ${step.error.code}: ${step.error.message}` : ''}`),
        ),
        text({ x: labelX, y: y + BAR - 2, 'font-size': 10, fill: width > textWidth(label, 10) + 6 ? '#fff' : '#333' }, label),
      ];
    },
  };
}

/** Vertical lines across the rows, labels staggered above them so neighbours do not overlap. */
function markLines(marks: Mark[], x: Scale, labelsTop: number, rowsBottom: number): string[] {
  const out: string[] = [];
  const lineEnds: number[] = Array.from({ length: LABEL_LINES }, () => -Infinity);
  for (const mark of [...marks].sort((a, b) => a.t - b.t)) {
    const at = x(mark.t);
    const width = textWidth(mark.label);
    // Right-aligned when it would run off the right edge.
    const anchorEnd = at + width > WIDTH - 4;
    const left = anchorEnd ? at - width : at;
    let line = lineEnds.findIndex((end) => end + 6 < left);
    if (line < 0) line = lineEnds.indexOf(Math.min(...lineEnds));
    lineEnds[line] = left + width;
    const labelY = labelsTop + (line + 1) * LABEL_LINE - 3;
    out.push(
      el('line', { 'data-kind': mark.kind, 'data-t': mark.t, x1: at, x2: at, y1: labelY + 3, y2: rowsBottom, stroke: mark.color, 'stroke-width': 1.5, 'stroke-dasharray': mark.dash }, title(`${mark.label} (${formatDuration(mark.t)} after drill start)`)),
      text({ x: at + (anchorEnd ? -3 : 3), y: labelY, fill: mark.color, 'text-anchor': anchorEnd ? 'end' : 'start' }, mark.label),
    );
  }
  return out;
}

function axis(x: Scale, reference: number, label: string, y: number): string[] {
  const [t0, t1] = x.domain;
  const step = tickStep(t1 - t0, 10);
  const out = [el('line', { x1: x.range[0], x2: x.range[1], y1: y, y2: y, stroke: '#333' })];
  for (let k = Math.ceil((t0 - reference) / step); reference + k * step <= t1; k++) {
    const t = reference + k * step;
    out.push(el('line', { 'data-kind': 'tick', 'data-t': t, x1: x(t), x2: x(t), y1: y, y2: y + 5, stroke: '#333' }));
    out.push(text({ x: x(t), y: y + 17, 'text-anchor': 'middle', fill: '#333', 'font-size': 10 }, k === 0 ? (label === 'T' ? 'T_fault' : 'start') : offset(t, reference, label)));
  }
  return out;
}

function legend(y: number): string[] {
  const items: Array<[string, string, number]> = [
    ['probe passing', COLORS.pass, 0.9],
    ['probe failing', COLORS.fail, 0.9],
    ['lost writes', COLORS.fail, 1],
    ['restored: uncertainty', COLORS.band, 0.18],
    ['RTO breach', COLORS.breach, 0.12],
    ['step error / interrupted', COLORS.warn, 0.85],
  ];
  const out: string[] = [];
  let at = LEFT;
  for (const [name, color, opacity] of items) {
    out.push(el('rect', { x: at, y: y - 9, width: 12, height: 10, fill: color, 'fill-opacity': opacity, stroke: '#999', 'stroke-width': 0.5 }));
    out.push(text({ x: at + 16, y, fill: '#333', 'font-size': 10 }, name));
    at += 24 + textWidth(name, 10);
  }
  out.push(
    text(
      { x: LEFT, y: y + 18, fill: '#555', 'font-size': 10 },
      'Times on the drill’s monotonic clock. "restored" is the measured instant (an upper bound); the true restoration lies in the band before it.',
    ),
  );
  return out;
}

function clip(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}
