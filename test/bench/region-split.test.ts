import { describe, expect, it } from 'vitest';
import type { Journal } from '../../src/engine/journal-types.js';
import { percentile, splitOfRegionDrill } from '../../bench/region-split.js';

const stamp = (t: number) => ({ t, wall: new Date(1_700_000_000_000 + t).toISOString() });

function journal(steps: Array<{ name: string; output: Record<string, unknown> }>, extra: Partial<Journal> = {}): Journal {
  return {
    runId: 'r1',
    status: 'passed',
    marks: { tFault: stamp(10_000), tDetected: stamp(11_200) },
    measurements: { rtoMs: 9_400, rtoLowerBoundMs: 9_150 },
    steps: steps.map((s) => ({ name: s.name, phase: 'recover', status: 'passed', start: stamp(12_000), end: stamp(15_000), output: s.output })),
    scenario: { definition: { expect: { rto: 60_000 } } },
    ...extra,
  } as unknown as Journal;
}

describe('bench: where region-loss time went, from a real drill journal', () => {
  it('the UPSERT path: detection, fence, promotion, DR ready, UPSERT to served, the old TTL', () => {
    const split = splitOfRegionDrill(
      journal([
        { name: 'activate-dr-site', output: { fenceMs: 1010, promoteMs: 812, readyMs: 420 } },
        { name: 'dns-failover', output: { upsertAckedMs: 35, insyncMs: 1, verifiedMs: 60, staleAnswersPossibleForMs: 5000 } },
      ]),
    );
    expect(split).toEqual({
      runId: 'r1',
      status: 'passed',
      phasesMs: { detection: 1200, fence: 1010, promotion: 812, drServiceReady: 420, dnsChange: 95, ttlWindow: 5000 },
      rtoMs: 9400,
      rtoLowerBoundMs: 9150,
      rtoObjectiveMs: 60_000,
    });
  });

  it('the health-check path: the first unhealthy transition after the fault and the flip as seen', () => {
    const split = splitOfRegionDrill(
      journal([
        {
          name: 'activate-dr-site',
          output: {
            fenceMs: 3,
            promoteMs: 700,
            readyMs: 300,
            dnsAnswersDrAfterMs: 3900,
            healthTransitions: [
              { endpoint: '127.0.1.10:8080', healthy: false, afterFaultMs: 2104 },
              { endpoint: '127.0.1.10:8080', healthy: true, afterFaultMs: 9000 },
            ],
          },
        },
      ]),
    );
    expect(split.phasesMs).toEqual({ detection: 1200, fence: 3, promotion: 700, drServiceReady: 300, healthCheckDetection: 2104, dnsAnswersDr: 3900 });
  });

  it('refuses a run that measured nothing (no T_fault, no RTO) rather than report zeros', () => {
    expect(() => splitOfRegionDrill(journal([], { marks: {} }))).toThrow(/no T_fault/);
    expect(() => splitOfRegionDrill(journal([], { measurements: {}, status: 'environment-error' } as Partial<Journal>))).toThrow(/no RTO \(status environment-error\)/);
  });

  it('percentiles are nearest-rank: always a value that was observed', () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(sorted, 99)).toBe(99);
    expect(percentile(sorted, 50)).toBe(50);
    expect(percentile([3, 7], 99)).toBe(7);
    expect(percentile([5], 1)).toBe(5);
    expect(() => percentile([], 50)).toThrow(/no samples/);
  });
});
