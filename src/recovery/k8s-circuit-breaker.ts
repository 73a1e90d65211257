import createDebug from 'debug';
import { sleep } from '../engine/clock.js';
import type { DrillContext } from '../engine/drill-context.js';
import { StepFailedError } from '../engine/errors.js';
import { formatDuration } from '../scenario/duration.js';
import type { RecoveryStep } from '../scenario/schema.js';
import { breakerStep, initialBreakerState } from './circuit-breaker-state.js';
import { waitBudgetMs } from '../engine/step-wait-budget.js';
import { autoRollback } from './k8s-auto-rollback.js';
import { ServiceHealth } from './service-health.js';

const debug = createDebug('drill:recovery');

type Step = Extract<RecoveryStep, { step: 'k8s-circuit-breaker' }>;

interface CheckRecord {
  /** Drill clock (ms since the drill started), so it lines up with T_fault and the probe samples. */
  t: number;
  healthy: boolean;
  errorCount: number;
  reset?: 'window' | 'success';
  failing?: string;
}

/**
 * Runbook "Circuit Breaker Implementation" (scripts/monitoring/circuit-breaker.sh): a health check
 * every `interval`; the decisions (failure count, window, threshold) are circuit-breaker-state.ts.
 * When it trips, it runs the auto-rollback (the same function as the k8s-auto-rollback step), whose
 * postcondition is then this step's. The script watches forever; a drill step stops after
 * `watchFor`, and an untripped breaker passes only if the service was healthy at its last check.
 */
export async function k8sCircuitBreaker(ctx: DrillContext, step: Step): Promise<Record<string, unknown>> {
  // Refused now rather than after minutes of watching, when the rollback would need it.
  await ctx.k8s.requireDrillTarget('k8s-circuit-breaker');
  const deadline = Date.now() + waitBudgetMs(step.timeout);
  const { clock } = ctx;
  const config = { threshold: step.threshold, windowMs: step.window };
  const settings = { interval: step.interval, window: step.window, threshold: step.threshold };
  const started = clock.now();
  let state = initialBreakerState(started);
  const checks: CheckRecord[] = [];
  {
    await using health = new ServiceHealth(ctx, 'k8s-circuit-breaker');
    for (;;) {
      const t = clock.now();
      const result = await health.check();
      const next = breakerStep(state, { at: t, healthy: result.healthy }, config);
      state = next.state;
      const failing = result.failing.map((f) => `${f.probe}: ${f.error}`).join('; ');
      checks.push({ t, healthy: result.healthy, errorCount: state.errorCount, ...(next.reset ? { reset: next.reset } : {}), ...(failing ? { failing } : {}) });
      if (!result.healthy) debug('health check failed, error count %d: %s', state.errorCount, failing);
      if (next.trip) break;
      const nextAt = clock.now() + step.interval;
      if (nextAt - started >= step.watchFor || Date.now() + step.interval >= deadline) break;
      await sleep(step.interval, ctx.signal);
    }
  }

  const watchedMs = clock.now() - started;
  if (!state.tripped) {
    const last = checks.at(-1)!;
    if (!last.healthy) {
      throw new StepFailedError(
        'BREAKER_NOT_TRIPPED',
        `the circuit breaker watched for ${formatDuration(watchedMs)} without tripping (${step.threshold} failed checks in a row within ${formatDuration(step.window)}) ` +
          `and the service is still unhealthy (${last.failing}); lower threshold or interval, or lengthen watchFor`,
      );
    }
    ctx.recorder.event('circuit-breaker', `circuit breaker not tripped in ${formatDuration(watchedMs)}; the service is healthy, no rollback needed`, { tripped: false, rollbackNeeded: false });
    return { tripped: false, rollbackNeeded: false, ...settings, watchedMs, checks };
  }

  const tFault = ctx.recorder.journal.marks.tFault?.t;
  const trippedAt = checks.at(-1)!.t;
  const tripped = {
    tripped: true,
    trippedAfterMs: trippedAt - started,
    ...(tFault !== undefined ? { trippedAfterFaultMs: trippedAt - tFault } : {}),
  };
  // Recorded before the rollback, which may fail the step and take the output with it.
  ctx.recorder.event('circuit-breaker', `Circuit breaker triggered after ${state.errorCount} failed health checks in a row, initiating emergency procedures (auto-rollback)`, {
    ...tripped,
    ...settings,
    checks,
  });
  const rollback = await autoRollback(ctx, step.rollback, deadline);
  return { ...tripped, rollbackNeeded: rollback.rollbackNeeded, ...settings, checks, rollback };
}
