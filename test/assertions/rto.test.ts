import { describe, expect, it } from 'vitest';
import { assessRto, findStableWindow, stepDurations } from '../../src/assertions/rto.js';
import type { ProbeSample } from '../../src/engine/journal-types.js';
import { healthyDrill, stamp } from './journal-builder.js';

const FAILING_UNTIL_20S: [number, number] = [10_100, 20_000];

describe('assessRto', () => {
  it('measures from T_fault to the start of the first stable window, and reports verified recovery and step durations', () => {
    const { verdict, measurements } = assessRto(healthyDrill().build());
    expect(verdict).toMatchObject({ check: 'rto', status: 'passed', measured: 10_000, limit: 30_000 });
    expect(verdict.message).toBe('RTO 10s within 30s: every service probe passed for 5s from T_fault+10s');
    expect(verdict.details!.window).toEqual({ start: 20_000, end: 25_000 });
    expect(measurements).toEqual({
      rtoMs: 10_000,
      verifiedRecoveryMs: 16_000,
      stepDurationsMs: { 'assess-corruption': 1000, 'stop-writes': 500, 'pitr-restore': 7000, 'switch-workload': 1000 },
    });
  });

  it('a probe that flaps inside the window moves the window start past the flap', () => {
    const journal = healthyDrill()
      .probe({ name: 'sql', from: 250, failing: [FAILING_UNTIL_20S, [22_000, 22_250]], error: 'timeout' })
      .build();
    const { verdict, measurements } = assessRto(journal);
    // sql fails at 22000; the first passing sample after it is http at 22125.
    expect(measurements.rtoMs).toBe(12_125);
    expect(verdict.details!.window).toEqual({ start: 22_125, end: 27_125 });
    expect(verdict.status).toBe('passed');
  });

  it('a flap of a single raw sample also counts', () => {
    const journal = healthyDrill().samples({ probe: 'http', t: 24_990, ok: false, error: 'HTTP 502' }).build();
    expect(assessRto(journal).measurements.rtoMs).toBe(25_000 - 10_000);
  });

  it('a probe that never stabilises fails RTO and names the last failure', () => {
    const flaps: Array<[number, number]> = [];
    for (let t = 23_000; t <= 38_000; t += 3_000) flaps.push([t, t + 250]);
    const journal = healthyDrill()
      .probe({ name: 'sql', from: 250, failing: [FAILING_UNTIL_20S, ...flaps], error: 'could not read block 0' })
      .build();
    const { verdict, measurements } = assessRto(journal);
    expect(verdict.status).toBe('failed');
    expect(verdict.measured).toBeUndefined();
    expect(measurements.rtoMs).toBeUndefined();
    expect(verdict.message).toBe(
      "recovery never stabilised: no 5s window after the fault in which every service probe passed (last failure: probe 'sql' at T_fault+28s (could not read block 0))",
    );
    expect(measurements.stepDurationsMs).toBeDefined();
  });

  it('a window must be observed to its end: recovery too close to the last sample is not stable yet', () => {
    const journal = healthyDrill()
      .probe({ name: 'sql', from: 250, failing: [[10_100, 36_000]] })
      .probe({ name: 'http', from: 125, failing: [[10_100, 36_000]] })
      .build();
    expect(assessRto(journal).verdict.message).toMatch(/^recovery never stabilised/);
  });

  it('a service probe that stops reporting after the fault never covers a window', () => {
    const journal = healthyDrill().probe({ name: 'http', from: 125, to: 9_900 }).build();
    const { verdict } = assessRto(journal);
    expect(verdict.status).toBe('failed');
    expect(verdict.message).toContain('recovery never stabilised');
  });

  it('non-service probes do not count', () => {
    const journal = healthyDrill().probe({ name: 'replica-lag', service: false, failing: [[0, 50_000]] }).build();
    expect(assessRto(journal).measurements.rtoMs).toBe(10_000);
  });

  it('passes just under the limit and fails at and over it', () => {
    const journal = healthyDrill().build();
    expect(assessRto(journal, { rto: 10_001, stability: 5000 }).verdict.status).toBe('passed');
    const at = assessRto(journal, { rto: 10_000, stability: 5000 }).verdict;
    expect(at.status).toBe('failed');
    expect(at.message).toMatch(/^RTO 10s equals the limit 10s/);
    const over = assessRto(healthyDrill().expect({ rto: '9.9s' }).build()).verdict;
    expect(over).toMatchObject({ status: 'failed', measured: 10_000, limit: 9_900 });
    expect(over.message).toMatch(/^RTO 10s exceeds 9.9s/);
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

describe('findStableWindow', () => {
  const s = (probe: string, t: number, ok = true): ProbeSample => ({ probe, service: true, t, ok, latencyMs: 1 });

  it('a failure at the same instant as a pass rules that instant out', () => {
    const samples = [s('a', 0, false), s('b', 0), s('a', 1000), s('b', 1000), s('a', 2000), s('b', 2000), s('a', 3000), s('b', 3000)];
    expect(findStableWindow(samples, ['a', 'b'], 1000).window).toEqual({ start: 1000, end: 2000 });
  });

  it('requires every probe to have a sample inside the window', () => {
    const samples = [s('a', 0), s('a', 500), s('a', 1000), s('b', 1200), s('a', 1500), s('a', 2000), s('b', 2200), s('a', 2500)];
    // [0, 1000] has no sample of b; the next candidate, 500, covers b's sample at 1200.
    expect(findStableWindow(samples, ['a', 'b'], 1000).window).toEqual({ start: 500, end: 1500 });
  });

  it('finds nothing without samples or probes', () => {
    expect(findStableWindow([], ['a'], 1000)).toEqual({});
    expect(findStableWindow([s('a', 0), s('a', 5000)], [], 1000).window).toBeUndefined();
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
