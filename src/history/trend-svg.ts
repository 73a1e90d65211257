/**
 * The trend chart of one scenario and one measure (RTO or RPO): each run a point at its measured
 * value (RTO: the upper bound, with a whisker down to its lower bound), red when the run failed
 * that check; the limit each run was judged by as a dashed step line. Runs are evenly spaced,
 * oldest left, labelled with their date: game days are weeks apart, CI runs minutes apart, and
 * either reads the same.
 *
 * Points carry `data-kind="point"`, `data-run-id` and `data-ms`; the root carries its value axis
 * (`data-v-start`, `data-v-end`, `data-y-start`, `data-y-end`) so tests can read positions back.
 */
import { COLORS } from '../report/timeline-svg.js';
import { el, linearScale, px, svgDocument, text, title } from '../report/svg.js';
import { formatDuration, formatDurationBound } from '../scenario/duration.js';
import type { HistoryRun, Measured, ScenarioHistory } from './types.js';

export type TrendMeasure = 'rto' | 'rpo';

const WIDTH = 640;
const HEIGHT = 220;
const LEFT = 64;
const RIGHT = 16;
const TOP = 30;
const BOTTOM = 44;

function measureOf(run: HistoryRun, measure: TrendMeasure): Measured | undefined {
  return measure === 'rto' ? run.rto : run.rpo;
}

/** The chart, or undefined when no run of the scenario has this measure at all. */
export function renderTrendSvg(history: ScenarioHistory, measure: TrendMeasure): string | undefined {
  const runs = history.runs.filter((r) => measureOf(r, measure) !== undefined);
  if (runs.length === 0) return undefined;
  const values = runs.map((r) => measureOf(r, measure)!);
  const measured = values.flatMap((v) => (v.measuredMs === undefined ? [] : [v.measuredMs]));
  const limits = values.map((v) => v.limitMs);
  // Scaled to what was measured; a limit far above every measurement would flatten the points
  // onto the axis, so it is drawn only when within 3x of the largest measurement, else named.
  const top = Math.max(...measured, 0);
  const vMax = niceCeiling(Math.max(top, ...limits.filter((l) => l <= Math.max(top, 1000) * 3)) * 1.05);
  const y = linearScale([0, vMax], [HEIGHT - BOTTOM, TOP]);
  const slot = (WIDTH - LEFT - RIGHT) / runs.length;
  const xAt = (i: number) => LEFT + slot * (i + 0.5);
  const name = measure.toUpperCase();

  const body: string[] = [
    text({ x: LEFT, y: 16, 'font-weight': 'bold', fill: '#111' }, `${history.scenario}: ${name} per run (${measure === 'rto' ? 'upper bound, whisker to lower bound' : 'newest acknowledged write lost'})`),
    el('line', { x1: LEFT, x2: WIDTH - RIGHT, y1: y(0), y2: y(0), stroke: '#333' }),
    el('line', { x1: LEFT, x2: LEFT, y1: TOP, y2: y(0), stroke: '#333' }),
  ];
  for (const v of [0, vMax / 2, vMax]) {
    body.push(text({ x: LEFT - 6, y: y(v) + 4, 'text-anchor': 'end', fill: '#333', 'font-size': 10 }, formatDuration(v)));
    body.push(el('line', { x1: LEFT, x2: WIDTH - RIGHT, y1: y(v), y2: y(v), stroke: '#e3e5e8' }));
  }
  // The limit as a step line: each run's own, so a tightened objective shows where it changed.
  runs.forEach((run, i) => {
    const limit = measureOf(run, measure)!.limitMs;
    if (limit > vMax) return;
    body.push(
      el('line', { 'data-kind': 'limit', 'data-run-id': run.runId, 'data-ms': limit, x1: xAt(i) - slot / 2, x2: xAt(i) + slot / 2, y1: y(limit), y2: y(limit), stroke: COLORS.limit, 'stroke-dasharray': '5 3', 'stroke-width': 1.5 }, title(`${name} limit ${formatDuration(limit)}`)),
    );
  });
  const above = [...new Set(limits.filter((l) => l > vMax))];
  if (above.length) {
    body.push(text({ 'data-kind': 'limit-offscale', x: WIDTH - RIGHT, y: HEIGHT - 8, 'text-anchor': 'end', fill: COLORS.limit, 'font-size': 10 }, `limit ${above.map(formatDuration).join(', ')}: above the chart`));
  }
  runs.forEach((run, i) => {
    const v = measureOf(run, measure)!;
    const cx = xAt(i);
    body.push(text({ x: cx, y: HEIGHT - BOTTOM + 14, 'text-anchor': 'middle', fill: '#333', 'font-size': 9 }, run.startedAt.slice(5, 16).replace('T', ' ')));
    if (v.measuredMs === undefined) {
      body.push(
        el(
          'text',
          { 'data-kind': 'not-measured', 'data-run-id': run.runId, x: cx, y: y(0) - 6, 'text-anchor': 'middle', fill: COLORS.warn, 'font-size': 12 },
          title(`${run.runId}: ${name} not measured (${run.status}${run.error ? `, ${run.error}` : ''})`),
          '×',
        ),
      );
      return;
    }
    const failed = v.verdict === 'failed';
    if (v.lowerBoundMs !== undefined && v.lowerBoundMs < v.measuredMs) {
      body.push(el('line', { 'data-kind': 'whisker', 'data-run-id': run.runId, 'data-ms': v.lowerBoundMs, x1: cx, x2: cx, y1: y(v.lowerBoundMs), y2: y(v.measuredMs), stroke: '#555' }));
    }
    const shown = measure === 'rto' ? `≤ ${formatDurationBound(v.measuredMs, 'up')}` : formatDuration(v.measuredMs);
    body.push(
      el(
        'circle',
        { 'data-kind': 'point', 'data-run-id': run.runId, 'data-ms': v.measuredMs, 'data-verdict': v.verdict, cx, cy: y(v.measuredMs), r: 4.5, fill: failed ? COLORS.fail : v.verdict === 'passed' ? COLORS.pass : COLORS.muted, stroke: '#fff' },
        title(`${run.runId}: ${name} ${shown} (limit ${formatDuration(v.limitMs)}${v.verdict ? `, ${v.verdict}` : ', not judged'})`),
      ),
    );
  });
  body.push(text({ x: LEFT, y: HEIGHT - 8, fill: '#555', 'font-size': 10 }, `${runs.length} run(s), oldest left; red: failed its ${name} check; dashed: its limit`));
  return svgDocument(WIDTH, HEIGHT, { role: 'img', 'aria-label': `${name} trend of ${history.scenario}`, 'data-v-start': 0, 'data-v-end': px(vMax), 'data-y-start': HEIGHT - BOTTOM, 'data-y-end': TOP }, body);
}

/** The smallest 1, 2 or 5 × 10^k ms at or above `ms`, at least 1 s (an axis of 0 to 1 ms reads as noise). */
function niceCeiling(ms: number): number {
  let nice = 1000;
  for (let unit = 1000; nice < ms; unit *= 10) nice = [unit, 2 * unit, 5 * unit, 10 * unit].find((n) => n >= ms) ?? 10 * unit;
  return nice;
}
