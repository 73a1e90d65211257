import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Journal } from '../../src/engine/journal-types.js';
import { buildHistory } from '../../src/history/build-history.js';
import { readRuns } from '../../src/history/read-runs.js';
import { renderHistory } from '../../src/history/render.js';
import { renderTrendSvg } from '../../src/history/trend-svg.js';
import type { HistoryReport } from '../../src/history/types.js';
import { earlyErrorJournal, failedJournal, passedJournal, tempDir } from '../report/fixtures.js';
import { byKind, parseSvg, type SvgElement } from '../report/svg-read.js';

// Synthetic runs of the fixture scenario (db-page-corruption-pitr, RTO objective 15m, RPO 5m) on
// three game days, one of a second scenario without a database, and directories that are no runs.
let reports: string;

function run(journal: Journal, day: string, patch: (j: Journal) => void = () => undefined): Journal {
  const j = structuredClone(journal);
  j.runId = `${day.replace(/-/g, '')}T100000Z-${j.scenario.definition.name}`;
  j.startedAt = `${day}T10:00:00.000Z`;
  patch(j);
  return j;
}

async function write(journal: Journal | string, name = typeof journal === 'string' ? 'x' : journal.runId): Promise<void> {
  await mkdir(join(reports, name), { recursive: true });
  await writeFile(join(reports, name, 'journal.json'), typeof journal === 'string' ? journal : JSON.stringify(journal));
}

const first = run(passedJournal(), '2025-05-01', (j) => {
  // 32.001 s measured: shown rounded up, never as 32 s.
  j.measurements.rtoMs = 32_001;
});
const second = run(failedJournal(), '2025-06-01');
const third = run(earlyErrorJournal(), '2025-07-01');
const tightened = run(passedJournal(), '2025-08-01', (j) => {
  // Judged against a 40 s limit the scenario had then; the definition's objective (15m) must not replace it.
  j.verdicts = j.verdicts.map((v) => (v.check === 'rto' ? { ...v, limit: 40_000 } : v));
});
const noDatabase = run(passedJournal(), '2025-05-02', (j) => {
  j.scenario.definition = { ...j.scenario.definition, name: 'service-restart', title: 'Service restart' };
  delete (j.scenario.definition.targets as { postgres?: unknown }).postgres;
  j.verdicts = j.verdicts.filter((v) => v.check !== 'rpo' && v.check !== 'integrity');
});

beforeAll(async () => {
  reports = join(await tempDir('drill-history-'), 'reports');
  // Written out of date order: the history sorts by start, not by directory name.
  for (const j of [tightened, third, first, second, noDatabase]) await write(j);
  await write('{"torn', 'torn-write');
  await write(JSON.stringify({ ...first, journalVersion: 2 }), 'from-the-future');
  await mkdir(join(reports, 'someone-elses-dir'));
  await mkdir(join(reports, 'killed-run'));
  await writeFile(join(reports, 'killed-run', 'killed.json'), '{}');
  // What `drill report` writes there: not a run, not worth a note.
  await mkdir(join(reports, 'allure-report'));
  await writeFile(join(reports, 'summary.json'), '{}');
});
afterAll(async () => {
  await rm(join(reports, '..'), { recursive: true, force: true });
});

async function history(scenario?: string): Promise<HistoryReport> {
  return buildHistory(await readRuns(reports), { reportsDir: reports, ...(scenario ? { scenario } : {}) });
}

describe('drill history', () => {
  it('groups runs by scenario, oldest first, with RTO (upper and lower bound) and RPO beside the limit each run was judged by', async () => {
    const report = await history();
    expect(report.scenarios.map((s) => s.scenario)).toEqual(['db-page-corruption-pitr', 'service-restart']);
    const runs = report.scenarios[0]!.runs;
    expect(runs.map((r) => r.runId)).toEqual([first.runId, second.runId, third.runId, tightened.runId]);
    expect(runs[0]).toEqual({
      runId: first.runId,
      startedAt: '2025-05-01T10:00:00.000Z',
      status: 'passed',
      rto: { measuredMs: 32_001, lowerBoundMs: 31_750, limitMs: 900_000, verdict: 'passed' },
      rpo: { measuredMs: 300, limitMs: 300_000, verdict: 'passed' },
      lostWrites: 3,
    });
    expect(runs[1]!.rto).toMatchObject({ measuredMs: 1_000_000, verdict: 'failed' });
    // An environment error measured nothing: shown as such, with the scenario's objective.
    expect(runs[2]).toEqual({ runId: third.runId, startedAt: '2025-07-01T10:00:00.000Z', status: 'environment-error', error: 'PG_UNREACHABLE', rto: { limitMs: 900_000 }, rpo: { limitMs: 300_000 } });
    expect(runs[3]!.rto.limitMs).toBe(40_000);
    // No database: no RPO.
    expect(report.scenarios[1]!.runs[0]!.rpo).toBeUndefined();
  });

  it('reports run dirs it cannot use, each with why, and reads everything else', async () => {
    const { notes } = await history();
    const byRun = Object.fromEntries(notes.map((n) => [n.runId, n]));
    expect(Object.keys(byRun).sort()).toEqual(['from-the-future', 'killed-run', 'someone-elses-dir', 'torn-write']);
    expect(byRun['torn-write']).toMatchObject({ kind: 'unreadable-journal', message: expect.stringContaining('not valid JSON') });
    expect(byRun['from-the-future']).toMatchObject({ kind: 'unreadable-journal', message: expect.stringContaining('journal version 2') });
    expect(byRun['killed-run']).toMatchObject({ kind: 'killed-run' });
    expect(byRun['someone-elses-dir']).toMatchObject({ kind: 'not-a-run', message: expect.stringContaining('no journal.json') });
  });

  it('text: a table per scenario, RTO rounded up as an upper bound, a missed objective marked, the notes after', async () => {
    const text = renderHistory(await history(), 'text');
    const line = (runId: string) => text.split('\n').find((l) => /^ {2}\d{4}-/.test(l) && l.includes(runId))!;
    expect(line(first.runId)).toMatch(/2025-05-01 10:00:00\s+\S+\s+passed\s+≤ 32.01s\s+15m\s+300ms\s+5m\s+3$/);
    expect(line(second.runId)).toMatch(/failed\s+≤ 16m40s MISSED\s+15m/);
    expect(line(third.runId)).toMatch(/environment-error \(PG_UNREACHABLE\)\s+—\s+15m\s+—\s+5m\s+—$/);
    expect(line(tightened.runId)).toMatch(/passed\s+≤ 32s\s+40s\s/);
    expect(line(noDatabase.runId)).toMatch(/passed\s+≤ 32s\s+15m\s+n\/a\s+n\/a/);
    expect(text).toContain('4 run(s), 2 passed; worst RTO ≤ 16m40s');
    expect(text.indexOf('Notes:')).toBeGreaterThan(text.indexOf(noDatabase.runId));
    expect(text).toContain('someone-elses-dir: no journal.json');
  });

  it('md and html carry a trend chart per measure; json is the report itself', async () => {
    const report = await history('db-page-corruption-pitr');
    const md = renderHistory(report, 'md');
    expect(md).toContain(`| 2025-05-01 10:00:00 | ${first.runId} | passed | ≤ 32.01s | 15m | 300ms | 5m | 3 |`);
    expect(md.match(/<svg /g)).toHaveLength(2);
    const html = renderHistory(report, 'html');
    expect(html.match(/<svg /g)).toHaveLength(2);
    expect(html).toContain('<td class="missed">≤ 16m40s MISSED</td>');
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    expect(JSON.parse(renderHistory(report, 'json'))).toEqual(JSON.parse(JSON.stringify(report)));
  });

  it('--scenario: only that one; a name no run has is bad input naming the ones there are', async () => {
    expect((await history('service-restart')).scenarios.map((s) => s.scenario)).toEqual(['service-restart']);
    await expect(history('db-page-corruption-pitt')).rejects.toMatchObject({
      code: 'HISTORY_SCENARIO_UNKNOWN',
      kind: 'input',
      message: expect.stringMatching(/did you mean "db-page-corruption-pitr".*db-page-corruption-pitr, service-restart/),
    });
  });

  it('a reports dir that does not exist or is a file is bad input; an empty one is a history with a note', async () => {
    await expect(readRuns(join(reports, 'nope'))).rejects.toMatchObject({ code: 'REPORTS_DIR_NOT_FOUND', kind: 'input' });
    await expect(readRuns(join(reports, 'summary.json'))).rejects.toMatchObject({ code: 'REPORTS_DIR_INVALID', kind: 'input' });
    const empty = join(reports, '..', 'empty');
    await mkdir(empty);
    const report = buildHistory(await readRuns(empty), { reportsDir: empty });
    expect(report.scenarios).toEqual([]);
    expect(report.notes).toEqual([{ kind: 'no-runs', message: expect.stringContaining('run a drill first') }]);
  });
});

describe('the trend chart', () => {
  /** y of a value from the axis the chart declares. */
  const yAxis = (els: SvgElement[]) => {
    const root = els.find((e) => e.tag === 'svg')!.attrs;
    const [v0, v1, y0, y1] = ['data-v-start', 'data-v-end', 'data-y-start', 'data-y-end'].map((k) => Number(root[k]));
    return (ms: number) => y0! + ((ms - v0!) / (v1! - v0!)) * (y1! - y0!);
  };

  it('puts each run at its measured RTO with a whisker to its lower bound, failed runs red, each run\'s limit as a dashed line', async () => {
    const report = await history('db-page-corruption-pitr');
    // Days 1 and 4 (32 s) with day 4's 40 s limit; day 2's 16m40s would flatten them, so chart without it.
    const scenario = { ...report.scenarios[0]!, runs: report.scenarios[0]!.runs.filter((r) => r.runId !== second.runId) };
    const els = parseSvg(renderTrendSvg(scenario, 'rto')!);
    const y = yAxis(els);
    const points = byKind(els, 'point');
    expect(points.map((p) => p.attrs['data-run-id'])).toEqual([first.runId, tightened.runId]);
    expect(Number(points[0]!.attrs.cy)).toBeCloseTo(y(32_001), 1);
    expect(Number(points[1]!.attrs.cy)).toBeCloseTo(y(32_000), 1);
    const whisker = byKind(els, 'whisker').find((w) => w.attrs['data-run-id'] === first.runId)!;
    expect(Number(whisker.attrs.y1)).toBeCloseTo(y(31_750), 1);
    // The 40 s limit is drawn; 15m (the other runs') is far above and named instead.
    const limits = byKind(els, 'limit');
    expect(limits.map((l) => l.attrs['data-ms'])).toEqual(['40000']);
    expect(Number(limits[0]!.attrs.y1)).toBeCloseTo(y(40_000), 1);
    expect(byKind(els, 'limit-offscale')).toHaveLength(1);
    // The environment error measured nothing: a cross, no point.
    expect(byKind(els, 'not-measured').map((e) => e.attrs['data-run-id'])).toEqual([third.runId]);

    const all = parseSvg(renderTrendSvg(report.scenarios[0]!, 'rto')!);
    const failed = byKind(all, 'point').filter((p) => p.attrs['data-verdict'] === 'failed');
    expect(failed.map((p) => p.attrs['data-run-id'])).toEqual([second.runId]);
    expect(failed[0]!.attrs.fill).toBe('#d0342c');
    expect(byKind(all, 'point').filter((p) => p.attrs.fill === '#d0342c')).toHaveLength(1);
  });

  it('has no RPO chart for a scenario without a database', async () => {
    const report = await history('service-restart');
    expect(renderTrendSvg(report.scenarios[0]!, 'rpo')).toBeUndefined();
    expect(renderTrendSvg(report.scenarios[0]!, 'rto')).toContain('data-kind="point"');
  });
});

