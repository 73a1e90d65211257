import { describe, expect, it } from 'vitest';
import { assessDetection } from '../../src/assertions/detection.js';
import { assessSteadyState } from '../../src/assertions/steady-state.js';
import { healthyDrill } from './journal-builder.js';

describe('assessDetection', () => {
  it('is the first failing service probe sample at/after T_fault', () => {
    const { verdict, measurements } = assessDetection(healthyDrill().build());
    expect(measurements).toEqual({ detectionLatencyMs: 125 });
    expect(verdict).toMatchObject({ check: 'detection', status: 'passed', measured: 125 });
    expect(verdict.message).toBe("fault detected 125ms after T_fault: probe 'http' at T_fault+125ms (HTTP 503) failed");
  });

  it('ignores failures before the fault and of non-service probes', () => {
    const journal = healthyDrill()
      .probe({ name: 'sql', from: 250, failing: [[2_000, 2_500]] })
      .probe({ name: 'http', from: 125, failing: [] })
      .probe({ name: 'replica-lag', service: false, failing: [[10_000, 12_000]] })
      .build();
    const { verdict, measurements } = assessDetection(journal);
    expect(verdict.status).toBe('failed');
    expect(verdict.message).toMatch(/^the fault was never observed: no service probe failed after T_fault \(\d+ samples after it, all passing\)$/);
    expect(measurements).toEqual({});
  });

  it('fails without T_fault', () => {
    expect(assessDetection(healthyDrill().fault(undefined).build()).verdict.status).toBe('failed');
  });
});

describe('assessSteadyState', () => {
  it('passes when every service probe reported and passed during the baseline', () => {
    const { verdict } = assessSteadyState(healthyDrill().build());
    expect(verdict.status).toBe('passed');
    expect(verdict.message).toBe('steady state held: 79 service probe samples from http, sql passed before T_fault');
  });

  it('fails on a failing baseline sample, naming the probe and its first error', () => {
    const journal = healthyDrill()
      .probe({ name: 'sql', from: 250, failing: [[3_000, 3_500], [10_100, 20_000]], error: 'canceling statement due to statement timeout' })
      .build();
    const { verdict } = assessSteadyState(journal);
    expect(verdict.status).toBe('failed');
    expect(verdict.message).toBe(
      "steady state did not hold: probe 'sql' at T_fault-7s (canceling statement due to statement timeout) failed (2 failing samples before the fault)",
    );
    expect(verdict.details!.firstFailure).toEqual({ probe: 'sql', t: 3000, ok: false, error: 'canceling statement due to statement timeout' });
  });

  it('fails when a service probe has no sample before the fault', () => {
    const { verdict } = assessSteadyState(healthyDrill().probe({ name: 'http', from: 12_125 }).build());
    expect(verdict.status).toBe('failed');
    expect(verdict.message).toBe("steady state did not hold: no sample before the fault from probe 'http'");
  });

  it('ignores a sample sent in the baseline but answered after it (it may have met the fault)', () => {
    const late = healthyDrill().samples({ probe: 'sql', t: 9_990, ok: false, latencyMs: 30, error: 'HTTP 503' });
    expect(assessSteadyState(late.build()).verdict.status).toBe('passed');
    // Its negative control: the same failure answered inside the baseline fails steady state.
    const inside = healthyDrill().samples({ probe: 'sql', t: 9_960, ok: false, latencyMs: 30, error: 'HTTP 503' });
    expect(assessSteadyState(inside.build()).verdict.message).toMatch(/^steady state did not hold: probe 'sql' at T_fault-40ms \(HTTP 503\) failed/);
  });

  it('ignores samples before the baseline phase (provisioning) and non-service probes', () => {
    const journal = healthyDrill()
      .samples({ probe: 'sql', t: -1_500, ok: false, error: 'connection refused' })
      .probe({ name: 'replica-lag', service: false, failing: [[0, 50_000]] })
      .build();
    expect(assessSteadyState(journal).verdict.status).toBe('passed');
  });
});
