import { describe, expect, it } from 'vitest';
import { assessRecoverySteps } from '../../src/assertions/recovery-steps.js';
import { judge } from '../../src/assertions/judge.js';
import { deepFreeze, healthyDrill } from './journal-builder.js';

describe('judge', () => {
  it('passes a healthy drill, verdicts in a fixed order, measurements merged', () => {
    const { verdicts, measurements, status } = judge(healthyDrill().build());
    expect(verdicts.map((v) => [v.check, v.status])).toEqual([
      ['steady-state', 'passed'],
      ['detection', 'passed'],
      ['rto', 'passed'],
      ['rpo', 'passed'],
      ['integrity', 'passed'],
      ['recovery-steps', 'passed'],
    ]);
    expect(status).toBe('passed');
    expect(measurements).toEqual({
      detectionLatencyMs: 125,
      rtoMs: 10_125,
      rtoLowerBoundMs: 9_875,
      rtoUncertaintyMs: 250,
      verifiedRecoveryMs: 16_000,
      stepDurationsMs: { 'assess-corruption': 1000, 'stop-writes': 500, 'pitr-restore': 7000, 'switch-workload': 1000 },
      rpoMs: 0,
      lostWrites: 0,
      lostRanges: [],
      holes: [],
      lostAfterFault: 0,
    });
  });

  it('fails when any verdict fails', () => {
    const { verdicts, status } = judge(healthyDrill().integrity({ pageChecksumFailures: 1 }).build());
    expect(status).toBe('failed');
    expect(verdicts.filter((v) => v.status === 'failed').map((v) => v.check)).toEqual(['integrity']);
  });

  it('is deterministic and does not mutate the journal', () => {
    const journal = healthyDrill()
      .lose((ack) => ack.epoch === 1 && ack.id >= 80)
      .samples({ probe: 'sql', t: 21_000, ok: false, error: 'timeout' })
      .build();
    const before = JSON.stringify(journal);
    deepFreeze(journal);
    const first = judge(journal);
    const second = judge(journal);
    expect(second).toEqual(first);
    expect(JSON.stringify(journal)).toBe(before);
    // Probe order in the journal does not matter.
    const shuffled = structuredClone(journal);
    shuffled.probes.reverse();
    shuffled.canary.acks.reverse();
    expect(judge(shuffled)).toEqual(first);
  });

  it('keeps the WAL bytes lost the engine recorded', () => {
    const journal = healthyDrill().build();
    journal.measurements.walBytesLost = 16_384;
    expect(judge(journal).measurements.walBytesLost).toBe(16_384);
  });
});

describe('assessRecoverySteps', () => {
  it('fails when a step failed or errored, naming it', () => {
    const journal = healthyDrill()
      .clearSteps()
      .step('assess-corruption', 10_500, 11_500)
      .step('pitr-restore', 12_000, 19_000, 'failed', { code: 'PITR_TARGET_NOT_REACHED', message: 'recovery stopped before the target' })
      .step('switch-workload', 19_000, 19_100, 'error', { code: 'INTERNAL', message: 'boom' })
      .build();
    const { verdict } = assessRecoverySteps(journal);
    expect(verdict.status).toBe('failed');
    expect(verdict.message).toBe(
      'recovery steps did not succeed: pitr-restore failed (PITR_TARGET_NOT_REACHED: recovery stopped before the target); switch-workload error (INTERNAL: boom)',
    );
    expect(judge(journal).status).toBe('failed');
  });

  it('fails when a step was interrupted or no step was recorded', () => {
    expect(assessRecoverySteps(healthyDrill().step('verify', 30_000, undefined, 'interrupted').build()).verdict.status).toBe('failed');
    const none = assessRecoverySteps(healthyDrill().clearSteps().build()).verdict;
    expect(none).toMatchObject({ status: 'failed', message: 'no recovery step was recorded (the scenario has 4 steps)' });
  });

  it('passes skipped steps', () => {
    const { verdict } = assessRecoverySteps(healthyDrill().step('stop-writes', 12_000, 12_000, 'skipped').build());
    expect(verdict).toMatchObject({ status: 'passed', message: '5 recovery steps completed (1 skipped)' });
  });
});
