import { describe, expect, it } from 'vitest';
import { assessPerformance, judge } from '../../src/assertions/index.js';
import { assessSmoke } from '../../src/assertions/smoke.js';
import type { Journal, LoadRun, SmokeCheck, SmokeRun } from '../../src/engine/journal-types.js';
import type { PerformanceLimits } from '../../src/scenario/schema.js';
import { deepFreeze, healthyDrill, stamp } from './journal-builder.js';

const LIMITS: PerformanceLimits = { p99Ratio: 3, p99Floor: 100, errorRate: 0.01 };

function loadRun(phase: LoadRun['phase'], p99: number, extra: Partial<LoadRun> = {}): LoadRun {
  return {
    phase,
    driver: 'autocannon',
    path: '/health',
    endpoints: ['truststream-api-1', 'truststream-api-2'],
    start: stamp(phase === 'baseline' ? 8000 : 30_000),
    end: stamp(phase === 'baseline' ? 9000 : 31_000),
    settings: { requests: 1000, connections: 10, durationMs: 30_000 },
    stoppedBy: 'requests',
    responses: 1000,
    durationMs: 1000,
    requestsPerSecond: 1000,
    latencyMs: { p50: p99 / 3, p90: p99 / 2, p99, max: p99 * 1.2, mean: p99 / 3 },
    errors: 0,
    timeouts: 0,
    non2xx: 0,
    ...extra,
  };
}

/** The healthy drill with the service's validation planned (smoke and load in verify) and the given runs. */
function withService(runs: { load?: LoadRun[]; smoke?: SmokeRun[] }, performance = LIMITS): Journal {
  const journal = healthyDrill().build();
  journal.scenario.definition.verify = [
    { step: 'smoke', workerWithin: 10_000, requestTimeout: 5000, timeout: 600_000 },
    { step: 'load', timeout: 600_000 },
  ];
  journal.scenario.definition.expect.performance = performance;
  if (runs.load) journal.load = runs.load;
  if (runs.smoke) journal.smoke = runs.smoke;
  return deepFreeze(journal);
}

const passing = (name: SmokeCheck['name']): SmokeCheck => ({ name, title: name, status: 'passed', start: stamp(30_000), ms: 12 });
const smokeRun = (checks: SmokeCheck[], phase: SmokeRun['phase'] = 'verify'): SmokeRun => ({ phase, start: stamp(30_000), end: stamp(30_100), checks });

describe('performance (pure: journal.load against the scenario limits)', () => {
  it('passes when the p99 after recovery stays below the ratio and the error rate within its limit', () => {
    const { verdict, measurements } = assessPerformance(withService({ load: [loadRun('baseline', 40), loadRun('verify', 110)] }));
    expect(verdict).toMatchObject({ check: 'performance', status: 'passed', measured: 2.75, limit: 3 });
    expect(verdict.message).toMatch(/^performance held: p99 110 ms after recovery vs 40 ms baseline \(2\.8×\)/);
    expect(measurements).toEqual({ baselineP99Ms: 40, recoveredP99Ms: 110, p99Ratio: 2.75, loadErrorRate: 0 });
  });

  it('fails on the p99 ratio (the limit is exclusive), naming both figures', () => {
    const { verdict } = assessPerformance(withService({ load: [loadRun('baseline', 40), loadRun('verify', 120)] }));
    expect(verdict.status).toBe('failed');
    expect(verdict.message).toBe("performance failed: p99 120 ms after recovery is 3.0× the baseline's 40 ms (limit: below 3×)");
  });

  it('a p99 under the floor passes the ratio whatever the baseline; the absolute limit applies regardless', () => {
    expect(assessPerformance(withService({ load: [loadRun('baseline', 5), loadRun('verify', 90)] })).verdict.status).toBe('passed');
    const slow = assessPerformance(withService({ load: [loadRun('baseline', 300), loadRun('verify', 720)] }, { ...LIMITS, p99: 500 })).verdict;
    expect(slow.status).toBe('failed');
    expect(slow.message).toBe('performance failed: p99 720 ms after recovery is not below 500ms');
  });

  it('fails on the error rate: errors and non-2xx over everything sent (at most the limit passes)', () => {
    const bad = assessPerformance(withService({ load: [loadRun('baseline', 40), loadRun('verify', 40, { responses: 990, errors: 10, non2xx: 5 })] }));
    expect(bad.verdict.status).toBe('failed');
    expect(bad.verdict.message).toBe('performance failed: error rate 1.50% over the limit 1.00% (10 errors, 5 non-2xx of 1000)');
    const atLimit = assessPerformance(withService({ load: [loadRun('baseline', 40), loadRun('verify', 40, { responses: 1000, non2xx: 10 })] }));
    expect(atLimit.verdict.status).toBe('passed');
  });

  it('cannot be judged without a baseline or an after-recovery run, or when nothing was answered', () => {
    expect(assessPerformance(withService({ load: [loadRun('verify', 40)] })).verdict.message).toBe('performance cannot be judged: no baseline load run was recorded');
    expect(assessPerformance(withService({ load: [loadRun('baseline', 40)] })).verdict.message).toBe('performance cannot be judged: no load run after recovery was recorded');
    const silent = assessPerformance(withService({ load: [loadRun('baseline', 40), loadRun('verify', 0, { responses: 0 })] })).verdict;
    expect(silent.status).toBe('failed');
    expect(silent.message).toMatch(/no request of the after-recovery load run got an answer or an error/);
  });
});

describe('smoke (pure: journal.smoke against the runs the scenario planned)', () => {
  it('passes when every planned run ran and every check passed', () => {
    const { verdict } = assessSmoke(withService({ smoke: [smokeRun((['health', 'read', 'journey', 'integration'] as const).map(passing))] }));
    expect(verdict).toMatchObject({ check: 'smoke', status: 'passed', measured: 0 });
    expect(verdict.message).toBe('smoke tests passed: 1 run, health 12 ms, read 12 ms, journey 12 ms, integration 12 ms');
  });

  it('fails naming each failed check, its phase and why', () => {
    const failed: SmokeCheck = { ...passing('journey'), status: 'failed', error: 'POST /api/transfers on truststream-api-1: HTTP 500 internal, expected 201' };
    const { verdict } = assessSmoke(withService({ smoke: [smokeRun([passing('health'), passing('read'), failed, { ...passing('integration'), status: 'failed', error: 'not run: the journey created no transfer' }])] }));
    expect(verdict.status).toBe('failed');
    expect(verdict.measured).toBe(2);
    expect(verdict.message).toBe(
      'smoke tests failed: journey (verify): POST /api/transfers on truststream-api-1: HTTP 500 internal, expected 201; integration (verify): not run: the journey created no transfer',
    );
  });

  it('a planned run that never ran fails', () => {
    expect(assessSmoke(withService({ smoke: [] })).verdict.message).toBe('smoke tests failed: 1 planned smoke run in verify never ran');
  });
});

describe('judge', () => {
  it('judges smoke and performance only when the scenario plans them', () => {
    const plain = judge(healthyDrill().build());
    expect(plain.verdicts.map((v) => v.check)).not.toContain('smoke');
    expect(plain.verdicts.map((v) => v.check)).not.toContain('performance');
    const planned = judge(withService({ load: [loadRun('baseline', 40), loadRun('verify', 500)], smoke: [smokeRun([passing('health')])] }));
    expect(planned.verdicts.map((v) => `${v.check} ${v.status}`)).toEqual(expect.arrayContaining(['smoke passed', 'performance failed']));
    expect(planned.status).toBe('failed');
    expect(planned.measurements).toMatchObject({ baselineP99Ms: 40, recoveredP99Ms: 500, p99Ratio: 12.5 });
  });
});
