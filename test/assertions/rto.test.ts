import { describe, expect, it } from 'vitest';
import { findRestoredInstant } from '../../src/assertions/restored-instant.js';
import { assessRto, rtoBoundsText, stepDurations } from '../../src/assertions/rto.js';
import type { ProbeSample } from '../../src/engine/journal-types.js';
import { healthyDrill, JournalBuilder, stamp } from './journal-builder.js';

const FAILING_UNTIL_20S: [number, number] = [10_100, 20_000];

describe('assessRto', () => {
  it('measures T_fault to the instant every service probe passed again, with the failing sample before it as the lower bound', () => {
    const { verdict, measurements } = assessRto(healthyDrill().build());
    // sql passes again at 20000, http only at 20125 (its last failure: 19875).
    expect(verdict).toMatchObject({ check: 'rto', status: 'passed', measured: 10_125, limit: 30_000 });
    expect(verdict.message).toBe(
      "RTO ≤ 10.13s (restored between T_fault+9.87s and T_fault+10.13s) within 30s: every service probe passing for 5s from when 'http' passed again",
    );
    expect(verdict.details).toMatchObject({
      window: { start: 20_125, end: 25_125 },
      boundBy: { probe: 'http' },
      lastFailureBefore: { probe: 'http', t: 19_875, ok: false },
    });
    expect(measurements).toEqual({
      rtoMs: 10_125,
      rtoLowerBoundMs: 9_875,
      rtoUncertaintyMs: 250,
      verifiedRecoveryMs: 16_000,
      stepDurationsMs: { 'assess-corruption': 1000, 'stop-writes': 500, 'pitr-restore': 7000, 'switch-workload': 1000 },
    });
  });

  it('mixed intervals (5 s and 250 ms): RTO waits for the slow probe, whose silence is the uncertainty', () => {
    // The numbers: the fast probe is back at T_fault+4.25s, the slow one sees it at T_fault+7.2s.
    const journal = new JournalBuilder()
      .probe({ name: 'fast', from: 250, every: 250, failing: [[10_100, 14_250]] })
      .probe({ name: 'slow', from: 2_200, every: 5_000, failing: [[10_100, 17_000]] })
      .writes({ from: 100, to: 9_900 })
      .build();
    const { verdict, measurements } = assessRto(journal);
    // The service was still failing for the fast probe at T_fault+4s; the slow one saw it back 3.2 s later.
    expect(measurements).toMatchObject({ rtoMs: 7_200, rtoLowerBoundMs: 4_000, rtoUncertaintyMs: 3_200 });
    expect(verdict.details).toMatchObject({ boundBy: { probe: 'slow' }, window: { start: 17_200, end: 22_200 }, lastFailureBefore: { probe: 'fast', t: 14_000 } });
    expect(verdict.message).toMatch(/^RTO ≤ 7.2s \(restored between T_fault\+4s and T_fault\+7.2s\)/);
  });

  it('a probe not sampled since it last failed counts as failing', () => {
    // http fails at 19875 and then stays silent until 25000 while sql passes from 20000.
    const journal = healthyDrill()
      .probe({ name: 'http', from: 125, to: 19_875, failing: [FAILING_UNTIL_20S] })
      .samples(...[25_000, 30_000, 35_000, 40_000].map((t) => ({ probe: 'http', t, ok: true })))
      .build();
    const { measurements, verdict } = assessRto(journal);
    expect(measurements).toMatchObject({ rtoMs: 15_000, rtoLowerBoundMs: 9_875 });
    expect(verdict.details).toMatchObject({ boundBy: { probe: 'http' } });
  });

  it('a probe with no sample at all after T_fault holds RTO back until it reports', () => {
    const journal = healthyDrill()
      .probe({ name: 'http', from: 125, to: 9_875 })
      .samples({ probe: 'http', t: 30_000, ok: true }, { probe: 'http', t: 36_000, ok: true })
      .build();
    expect(assessRto(journal).measurements).toMatchObject({ rtoMs: 20_000 });
  });

  it('a probe that flaps moves the restored instant past the flap', () => {
    const journal = healthyDrill()
      .probe({ name: 'sql', from: 250, failing: [FAILING_UNTIL_20S, [22_000, 22_250]], error: 'timeout' })
      .build();
    const { verdict, measurements } = assessRto(journal);
    // sql fails at 22000 and passes again at 22250; http passed throughout.
    expect(measurements).toMatchObject({ rtoMs: 12_250, rtoLowerBoundMs: 12_000, rtoUncertaintyMs: 250 });
    expect(verdict.details).toMatchObject({ window: { start: 22_250, end: 27_250 }, boundBy: { probe: 'sql' } });
    expect(verdict.status).toBe('passed');
  });

  it('a flap of a single raw sample also counts', () => {
    const journal = healthyDrill().samples({ probe: 'http', t: 24_990, ok: false, error: 'HTTP 502' }).build();
    // The next http sample after the flap is at 25125.
    expect(assessRto(journal).measurements).toMatchObject({ rtoMs: 15_125, rtoLowerBoundMs: 14_990 });
  });

  it('a probe that never recovers fails RTO and names the last failure', () => {
    const journal = healthyDrill().probe({ name: 'sql', from: 250, failing: [[10_100, 50_000]], error: 'could not read block 0' }).build();
    const { verdict, measurements } = assessRto(journal);
    expect(verdict.status).toBe('failed');
    expect(verdict.measured).toBeUndefined();
    expect(measurements.rtoMs).toBeUndefined();
    expect(measurements.rtoLowerBoundMs).toBeUndefined();
    expect(verdict.message).toBe(
      "recovery never stabilised: no instant after the fault from which every service probe passed for 5s (last failure: probe 'sql' at T_fault+30s (could not read block 0))",
    );
    expect(measurements.stepDurationsMs).toBeDefined();
  });

  it('a probe that keeps flapping never stabilises', () => {
    const flaps: Array<[number, number]> = [];
    for (let t = 23_000; t <= 38_000; t += 3_000) flaps.push([t, t + 250]);
    const journal = healthyDrill().probe({ name: 'sql', from: 250, failing: [FAILING_UNTIL_20S, ...flaps], error: 'could not read block 0' }).build();
    const { verdict } = assessRto(journal);
    expect(verdict.status).toBe('failed');
    expect(verdict.message).toContain("last failure: probe 'sql' at T_fault+28s");
  });

  it('a window must be observed to its end by every probe', () => {
    const journal = healthyDrill()
      .probe({ name: 'sql', from: 250, failing: [[10_100, 36_000]] })
      .probe({ name: 'http', from: 125, failing: [[10_100, 36_000]] })
      .build();
    expect(assessRto(journal).verdict.message).toMatch(/^recovery never stabilised/);
    // http passes from 20125 but stops reporting at 24000, before the window's end (25125).
    const silent = healthyDrill().probe({ name: 'http', from: 125, to: 24_000, failing: [FAILING_UNTIL_20S] }).build();
    expect(assessRto(silent).verdict.message).toMatch(/^recovery never stabilised/);
  });

  it('the step that restores the service holds RTO back until it ends', () => {
    const journal = healthyDrill()
      .clearSteps()
      .step('assess-corruption', 10_500, 11_500)
      .step('stop-writes', 11_500, 12_000)
      .step('pitr-restore', 12_000, 19_000)
      .step('switch-workload', 19_000, 21_000)
      .restoresService('switch-workload')
      .build();
    const { verdict, measurements } = assessRto(journal);
    // Every probe passes from 20125, but the runbook had not finished restoring until 21000.
    expect(measurements).toMatchObject({ rtoMs: 11_000, rtoLowerBoundMs: 9_875, rtoUncertaintyMs: 1_125 });
    expect(verdict.details).toMatchObject({ boundBy: { step: 'switch-workload' }, window: { start: 21_000, end: 26_000 } });
    expect(verdict.message).toContain('from when switch-workload ended');
    // Ending before the probes pass, it changes nothing.
    expect(assessRto(healthyDrill().restoresService('switch-workload').build()).measurements.rtoMs).toBe(10_125);
  });

  it('a restoring step that never ended means the service was never restored', () => {
    const journal = healthyDrill()
      .clearSteps()
      .step('assess-corruption', 10_500, 11_500)
      .step('stop-writes', 11_500, 12_000)
      .step('pitr-restore', 12_000, 19_000)
      .step('switch-workload', 19_000, undefined, 'interrupted')
      .restoresService('switch-workload')
      .build();
    expect(assessRto(journal).verdict.message).toContain('the step that restores the service, switch-workload, never finished');
  });

  it('failing samples before T_fault do not count', () => {
    // A sample 70 ms before T_fault failed (the injector's own restart): it is neither detection nor outage.
    const journal = healthyDrill().samples({ probe: 'sql', t: 9_930, ok: false, error: 'connection refused' }).build();
    expect(assessRto(journal).measurements.rtoMs).toBe(10_125);
  });

  it('non-service probes do not count', () => {
    const journal = healthyDrill().probe({ name: 'replica-lag', service: false, failing: [[0, 50_000]] }).build();
    expect(assessRto(journal).measurements.rtoMs).toBe(10_125);
  });

  it('passes just under the limit and fails at and over it', () => {
    const journal = healthyDrill().build();
    expect(assessRto(journal, { rto: 10_126, stability: 5000 }).verdict.status).toBe('passed');
    const at = assessRto(journal, { rto: 10_125, stability: 5000 }).verdict;
    expect(at.status).toBe('failed');
    expect(at.message).toMatch(/^RTO ≤ 10.13s \(restored between T_fault\+9.87s and T_fault\+10.13s\) equals the limit 10.1s/);
    const over = assessRto(healthyDrill().expect({ rto: '9.9s' }).build()).verdict;
    expect(over).toMatchObject({ status: 'failed', measured: 10_125, limit: 9_900 });
    expect(over.message).toMatch(/^RTO ≤ 10.13s .* exceeds 9.9s/);
  });

  it('fails without T_fault', () => {
    const { verdict } = assessRto(healthyDrill().fault(undefined).build());
    expect(verdict.status).toBe('failed');
    expect(verdict.message).toContain('T_fault was never recorded');
  });

  it('omits verified recovery when the drill was never verified', () => {
    expect(assessRto(healthyDrill().verified(undefined).build()).measurements.verifiedRecoveryMs).toBeUndefined();
  });
});

describe('findRestoredInstant', () => {
  const s = (probe: string, t: number, ok = true): ProbeSample => ({ probe, service: true, t, ok, latencyMs: 1 });

  it('equal timestamps: a failure at the same instant as a pass rules that instant out', () => {
    const samples = [s('a', 0, false), s('b', 0), s('a', 1000), s('b', 1000), s('a', 2000), s('b', 2000), s('a', 3000), s('b', 3000)];
    expect(findRestoredInstant(samples, ['a', 'b'], 1000).restored).toMatchObject({ at: 1000, window: { start: 1000, end: 2000 }, boundBy: { probe: 'a' } });
  });

  it('equal timestamps: a failure exactly at the window end is inside the window', () => {
    const samples = [s('a', 0), s('b', 0), s('a', 1000, false), s('b', 1000), s('a', 1500), s('b', 1500), s('a', 2500), s('b', 2500)];
    expect(findRestoredInstant(samples, ['a', 'b'], 1000).restored).toMatchObject({ at: 1500, lastFailureBefore: { probe: 'a', t: 1000 } });
  });

  it('equal timestamps: the same probe failing and passing at one instant is not restored at it', () => {
    const samples = [s('a', 0, false), s('a', 500, false), s('a', 500), s('a', 1000), s('a', 2000)];
    expect(findRestoredInstant(samples, ['a'], 500).restored?.at).toBe(1000);
  });

  it('a failure after the window does not move it, while the other probes still have to report past its end', () => {
    const samples = [s('a', 0), s('b', 0), s('a', 1000), s('a', 1100, false), s('b', 1200)];
    expect(findRestoredInstant(samples, ['a', 'b'], 1000).restored).toMatchObject({ at: 0, window: { start: 0, end: 1000 } });
  });

  it('requires every probe to report before the instant and past the window', () => {
    const samples = [s('a', 0), s('a', 500), s('a', 1000), s('b', 1200), s('a', 1500), s('a', 2000), s('b', 2200), s('a', 2500)];
    // b's first sample is at 1200; the window [1200, 2200] is seen to its end by b at 2200 and a at 2500.
    expect(findRestoredInstant(samples, ['a', 'b'], 1000).restored).toMatchObject({ at: 1200, boundBy: { probe: 'b' } });
    expect(findRestoredInstant(samples.slice(0, 6), ['a', 'b'], 1000).restored).toBeUndefined();
  });

  it('names the window still being observed, so the probes can be asked to sample at its end', () => {
    const samples = [s('a', 0, false), s('b', 0), s('a', 400), s('b', 900), s('a', 1300)];
    expect(findRestoredInstant(samples, ['a', 'b'], 1000)).toMatchObject({ pending: { start: 400, end: 1400 } });
    // Not before the restoring step ended.
    expect(findRestoredInstant(samples, ['a', 'b'], 1000, { step: 'rollout-undo', end: 600 }).pending).toEqual({ start: 600, end: 1600 });
    // Once observed to its end it is the restored window, not a pending one.
    const seen = findRestoredInstant([...samples, s('b', 1400), s('a', 1400)], ['a', 'b'], 1000);
    expect(seen.restored?.window).toEqual({ start: 400, end: 1400 });
    expect(seen.pending).toBeUndefined();
    // A probe failing (or not passing yet) leaves no window to observe.
    expect(findRestoredInstant([...samples, s('b', 1350, false)], ['a', 'b'], 1000).pending).toBeUndefined();
    expect(findRestoredInstant([s('a', 0), s('a', 500)], ['a', 'b'], 1000).pending).toBeUndefined();
  });

  it('finds nothing without samples or probes', () => {
    expect(findRestoredInstant([], ['a'], 1000)).toEqual({});
    expect(findRestoredInstant([s('a', 0), s('a', 5000)], [], 1000).restored).toBeUndefined();
  });
});

describe('rtoBoundsText', () => {
  it('rounds the upper bound up and the lower bound down', () => {
    expect(rtoBoundsText({ rtoMs: 1187, rtoLowerBoundMs: 933.4 })).toBe('RTO ≤ 1.19s (restored between T_fault+933ms and T_fault+1.19s)');
    expect(rtoBoundsText({ rtoMs: 61_001, rtoLowerBoundMs: 60_999 })).toBe('RTO ≤ 1m1.01s (restored between T_fault+1m0.99s and T_fault+1m1.01s)');
    expect(rtoBoundsText({})).toBeUndefined();
  });
});

describe('stepDurations', () => {
  it('keys by step name, numbers repeats and skips steps that never ended', () => {
    const step = (name: string, start: number, end?: number) => ({
      name,
      title: name,
      start: stamp(start),
      ...(end !== undefined ? { end: stamp(end) } : {}),
      status: 'passed' as const,
    });
    expect(stepDurations([step('pitr-restore', 0, 4000), step('pitr-restore', 5000, 6500), step('switch-workload', 7000), step('pitr-restore', 8000, 8100)])).toEqual({
      'pitr-restore': 4000,
      'pitr-restore#2': 1500,
      'pitr-restore#3': 100,
    });
  });
});
