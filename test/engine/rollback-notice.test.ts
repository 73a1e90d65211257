import { describe, expect, it } from 'vitest';
import type { ActivityRecord, JournalEvent } from '../../src/engine/journal-types.js';
import { rollbackRan } from '../../src/engine/phases/rollback-notice.js';

const step = (name: string, output?: Record<string, unknown>): ActivityRecord => ({
  name,
  title: name,
  start: { t: 1000, wall: '2026-12-02T00:00:01.000Z' },
  end: { t: 5000, wall: '2026-12-02T00:00:05.000Z' },
  status: output ? 'passed' : 'failed',
  ...(output ? { output } : {}),
});
const event = (t: number, rollbackNeeded: boolean): JournalEvent => ({ t, wall: '', kind: 'auto-rollback', message: '', data: { rollbackNeeded } });

describe('rollbackRan: a rollback notice only for a rollback that ran (auto-rollback.sh)', () => {
  it('a passed step: not when it said no rollback was needed (health check passed, breaker not tripped)', () => {
    expect(rollbackRan({ events: [] }, step('k8s-auto-rollback', { rollbackNeeded: false }), false)).toBe(false);
    expect(rollbackRan({ events: [] }, step('k8s-circuit-breaker', { tripped: false, rollbackNeeded: false }), false)).toBe(false);
    expect(rollbackRan({ events: [] }, step('k8s-auto-rollback', { rollbackNeeded: true }), false)).toBe(true);
    expect(rollbackRan({ events: [] }, step('migration-rollback', { from: '008', to: '007' }), false)).toBe(true);
  });

  it('a failed step: for auto-rollback and the breaker only when its events say the rollback started within the step', () => {
    // Tripped (or the gate failed), then the undo or its verification failed: escalation.
    expect(rollbackRan({ events: [event(2000, true)] }, step('k8s-circuit-breaker'), true)).toBe(true);
    // Never tripped (BREAKER_NOT_TRIPPED): nothing was rolled back, nothing to escalate as a rollback.
    expect(rollbackRan({ events: [] }, step('k8s-circuit-breaker'), true)).toBe(false);
    // An earlier step's rollback does not count for this one.
    expect(rollbackRan({ events: [event(500, true)] }, step('k8s-auto-rollback'), true)).toBe(false);
    expect(rollbackRan({ events: [event(2000, false)] }, step('k8s-auto-rollback'), true)).toBe(false);
    // The plain rollback steps always tried to roll back.
    expect(rollbackRan({ events: [] }, step('k8s-rollout-undo'), true)).toBe(true);
  });
});
