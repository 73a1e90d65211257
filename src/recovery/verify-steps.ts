import type { DrillContext } from '../engine/drill-context.js';
import type { VerifyStep } from '../scenario/schema.js';
import { runLoad } from '../workload/load/run-load.js';
import { smokeStep } from './smoke.js';

/**
 * The runbook's "Recovery Validation", run in the verify phase once the service is back. A smoke
 * step whose checks fail throws (the verify phase records it and goes on; the `smoke` check
 * judges journal.smoke); a load run only measures (the `performance` check judges journal.load).
 */
export async function runVerifyStep(ctx: DrillContext, step: VerifyStep): Promise<Record<string, unknown>> {
  switch (step.step) {
    case 'smoke':
      return smokeStep(ctx, step, 'verify');
    case 'load': {
      // The loader guarantees workload.load when a load step is present.
      const run = await runLoad(ctx, ctx.scenario.workload.load!, 'verify');
      return { p50Ms: run.latencyMs.p50, p99Ms: run.latencyMs.p99, requestsPerSecond: run.requestsPerSecond, responses: run.responses, errors: run.errors, non2xx: run.non2xx, stoppedBy: run.stoppedBy };
    }
  }
}

export const VERIFY_TITLES: Record<VerifyStep['step'], string> = {
  smoke: 'Post-recovery smoke tests (basic functionality, user journey, integration)',
  load: 'Performance validation (load test against the baseline)',
};
