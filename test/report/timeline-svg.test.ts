import { readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { judge } from '../../src/assertions/judge.js';
import type { Journal } from '../../src/engine/journal-types.js';
import { verifyEvidence, writeEvidence } from '../../src/report/evidence.js';
import { renderTimelineSvg, TIMELINE_FILE } from '../../src/report/timeline-svg.js';
import { writeRunArtifacts } from '../../src/report/write-run-artifacts.js';
import { healthyDrill, type JournalBuilder } from '../assertions/journal-builder.js';
import { failedJournal, makeRunDir, passedJournal, SECRET_PASSWORD, SECRET_URL, T_FAULT } from './fixtures.js';
import { axisOf, byKind, parseSvg, xOf, type SvgElement } from './svg-read.js';

/** A built journal with the measurements and verdicts the real judge gives it. */
function judged(builder: JournalBuilder): Journal {
  const journal = builder.build();
  const { measurements, verdicts, status } = judge(journal);
  return { ...journal, measurements, verdicts, status };
}

function one(elements: SvgElement[], kind: string): SvgElement {
  const found = byKind(elements, kind);
  expect(found, kind).toHaveLength(1);
  return found[0]!;
}

const width = (e: SvgElement) => Number(e.attrs.width);

// healthyDrill (test/assertions/journal-builder.ts): T_fault 10 s, service probes failing
// 10.1-20 s, http's last failure 19.875 s, first pass 20.125 s: RTO ≤ 10.125 s, lower bound 9.875 s.
const T = 10_000;

describe('the timeline picture', () => {
  const journal = judged(healthyDrill());
  const svg = renderTimelineSvg(journal);
  const elements = parseSvg(svg);
  const x = axisOf(elements);

  it('draws T_fault, the restored instant (the measured upper bound) and its uncertainty band where they happened', () => {
    expect(journal.measurements).toMatchObject({ rtoMs: 10_125, rtoLowerBoundMs: 9_875 });
    expect(xOf(one(elements, 't-fault'))).toBeCloseTo(x(T), 1);
    const restored = one(elements, 'restored');
    expect(Number(restored.attrs['data-t'])).toBe(T + 10_125);
    expect(xOf(restored)).toBeCloseTo(x(T + 10_125), 1);
    const band = one(elements, 'rto-uncertainty');
    expect(xOf(band)).toBeCloseTo(x(T + 9_875), 1);
    // The band ends exactly at the measured instant: nothing suggests a restoration after it, or an RTO better than the bracket.
    expect(xOf(band) + width(band)).toBeCloseTo(x(T + 10_125), 1);
    expect(one(elements, 'verified').attrs['data-t']).toBe('26000');
    expect(xOf(one(elements, 'verified'))).toBeCloseTo(x(26_000), 1);
    expect(svg).toContain('restored, RTO ≤ 10.13s');
  });

  it('draws each probe as passing and failing bars from their samples, and each runbook step as a span', () => {
    const failing = byKind(elements, 'probe-fail');
    expect(failing.map((e) => e.attrs['data-probe']).sort()).toEqual(['http', 'sql']);
    // http samples every 250 ms from 125: the first failing one is 10125, the first passing after is 20125.
    const http = failing.find((e) => e.attrs['data-probe'] === 'http')!;
    expect(xOf(http)).toBeCloseTo(x(10_125), 1);
    expect(xOf(http) + width(http)).toBeCloseTo(x(20_125), 1);
    expect(http.attrs['data-samples']).toBe('40');
    const steps = byKind(elements, 'step');
    expect(steps.map((s) => s.attrs['data-step'])).toEqual(['assess-corruption', 'stop-writes', 'pitr-restore', 'switch-workload']);
    const pitr = steps[2]!;
    expect(xOf(pitr)).toBeCloseTo(x(12_000), 1);
    expect(xOf(pitr) + width(pitr)).toBeCloseTo(x(19_000), 1);
    expect(pitr.attrs['data-status']).toBe('passed');
  });

  it('every element it places lies inside the time axis it declares', () => {
    const [x0, x1] = [x(Number(elements[0]!.attrs['data-t-start'])), x(Number(elements[0]!.attrs['data-t-end']))];
    const placed = elements.filter((e) => e.attrs['data-t'] !== undefined);
    expect(placed.length).toBeGreaterThan(10);
    for (const e of placed) {
      expect(xOf(e), e.attrs['data-kind']).toBeGreaterThanOrEqual(x0 - 1.01);
      expect(xOf(e), e.attrs['data-kind']).toBeLessThanOrEqual(x1 + 0.01);
    }
  });

  it('moves with the measurement: a later restoration is drawn further right (negative control)', () => {
    const later = judged(healthyDrill().probe({ name: 'http', from: 125, failing: [[10_100, 24_000]], error: 'HTTP 503' }));
    expect(later.measurements.rtoMs).toBe(14_125);
    const els = parseSvg(renderTimelineSvg(later));
    expect(xOf(one(els, 'restored'))).toBeCloseTo(axisOf(els)(T + 14_125), 1);
    expect(xOf(one(els, 'restored'))).not.toBeCloseTo(axisOf(els)(T + 10_125), 0);
  });

  it('a passing drill draws no breach and no lost writes; its RTO objective, far beyond the run, is named instead of drawn', () => {
    expect(byKind(elements, 'rto-breach')).toEqual([]);
    expect(byKind(elements, 'lost-writes')).toEqual([]);
    // healthyDrill's objective is 30 s: T_fault + 30 s = 40 s is inside the run, so it is drawn.
    expect(xOf(one(elements, 'rto-limit'))).toBeCloseTo(x(T + 30_000), 1);
    const generous = parseSvg(renderTimelineSvg(passedJournal()));
    expect(byKind(generous, 'rto-limit')).toEqual([]);
    expect(byKind(generous, 'rto-limit-offscale')).toHaveLength(1);
  });

  it('a drill that missed its RTO draws the breach from the objective to the measured restoration', () => {
    const missed = judged(healthyDrill().expect({ rto: '5s' }));
    expect(missed.verdicts.find((v) => v.check === 'rto')?.status).toBe('failed');
    const els = parseSvg(renderTimelineSvg(missed));
    const at = axisOf(els);
    const breach = one(els, 'rto-breach');
    expect(xOf(breach)).toBeCloseTo(at(T + 5_000), 1);
    expect(xOf(breach) + width(breach)).toBeCloseTo(at(T + 10_125), 1);
    expect(xOf(one(els, 'rto-limit'))).toBeCloseTo(at(T + 5_000), 1);
    expect(renderTimelineSvg(missed)).toContain('RTO MISSED: ≤ 10.13s measured, objective 5s');
    expect(one(els, 'status').attrs['data-kind']).toBe('status');
    expect(renderTimelineSvg(missed)).toContain('>FAILED<');
  });

  it('marks lost writes at the instants they were acknowledged, by id and epoch', () => {
    // Writes 80-99 of epoch 1 (acknowledged at 8.0-9.9 s) are not in the recovered database; after
    // the switch the writer continues from the highest surviving id, so epoch 2 reuses ids 80-99
    // (acknowledged from 20.1 s, and kept): those must not be drawn as lost.
    const lossy = judged(
      healthyDrill()
        .clearWrites()
        .writes({ from: 100, to: 9_900, epoch: 1, firstId: 1 })
        .writes({ from: 20_100, to: 40_000, epoch: 2, firstId: 80 })
        .lose((ack) => ack.epoch === 1 && ack.id >= 80),
    );
    expect(lossy.measurements.lostRanges).toEqual([[80, 99]]);
    const els = parseSvg(renderTimelineSvg(lossy));
    const lost = one(els, 'lost-writes');
    expect(lost.attrs['data-t']).toBe('8000');
    expect(lost.attrs['data-t-end']).toBe('9900');
    // Drawn one pixel wider each side so a single lost write stays visible.
    expect(xOf(lost) + 1).toBeCloseTo(axisOf(els)(8_000), 1);
  });

  it('escapes what it quotes: a step title or probe error with markup stays text', () => {
    const j = judged(healthyDrill().step('</text><script>alert(1)</script>', 20_000, 20_500, 'failed', { code: 'X', message: 'a & b < c "d"' }));
    const text = renderTimelineSvg(j);
    expect(text).not.toContain('<script>');
    const els = parseSvg(text);
    expect(byKind(els, 'step').at(-1)?.attrs['data-step']).toBe('</text><script>alert(1)</script>');
  });

  it('draws a run that stopped before anything was sampled, saying so', () => {
    const early = { ...passedJournal(), probes: [], steps: [], marks: {}, measurements: {}, verdicts: [], canary: { acks: [], attempts: 0, failures: 0 }, status: 'environment-error' as const };
    const text = renderTimelineSvg(early);
    parseSvg(text);
    expect(text).toContain('nothing was recorded');
  });
});

describe('timeline.svg in the run dir', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(dirname(d), { recursive: true, force: true });
  });

  it('is written beside the journal, redacted, shown by the incident report, copied into evidence/ and covered by the manifest', async () => {
    const journal = failedJournal();
    journal.steps[2] = { ...journal.steps[2]!, status: 'failed', error: { code: 'PITR_FAILED', message: `restore from ${SECRET_URL} failed` } };
    const dir = await makeRunDir(journal);
    dirs.push(dir);
    await writeRunArtifacts(dir, journal);
    const svg = await readFile(join(dir, TIMELINE_FILE), 'utf8');
    expect(svg).not.toContain(SECRET_PASSWORD);
    expect(svg).toContain('PITR_FAILED');
    const els = parseSvg(svg);
    expect(xOf(one(els, 't-fault'))).toBeCloseTo(axisOf(els)(T_FAULT), 1);
    expect(byKind(els, 'rto-breach')).toHaveLength(1);
    const report = await readFile(join(dir, 'incident-report.md'), 'utf8');
    expect(report).toMatch(/## Timeline\n\n!\[Timeline of the drill[^\]]*\]\(timeline\.svg\)/);

    const manifest = await writeEvidence(dir);
    expect(manifest.entries.map((e) => e.path)).toEqual(expect.arrayContaining(['timeline.svg', 'evidence/timeline.svg']));
    expect(await readFile(join(dir, 'evidence', TIMELINE_FILE), 'utf8')).toBe(svg);
    expect((await verifyEvidence(dir)).ok).toBe(true);
    // An edited picture (the breach painted over) fails verification.
    await writeFile(join(dir, TIMELINE_FILE), svg.replace('RTO MISSED', 'RTO met   '));
    const verdict = await verifyEvidence(dir);
    expect(verdict.ok).toBe(false);
    expect(verdict.problems.map((p) => p.message).join('\n')).toContain('timeline.svg');
  });
});
