import type { DrillContext } from '../engine/drill-context.js';
import { sleep } from '../engine/clock.js';
import type { RecoveryStep } from '../scenario/schema.js';

/**
 * The runbook waits before its next step (for the network to recover, for clients to reconnect):
 * nothing is done meanwhile, so whatever the fault left in place stays. Ctrl-C or the drill's
 * timeout ends the wait (the sleep is on the drill's abort signal).
 */
export async function waitStep(ctx: DrillContext, step: Extract<RecoveryStep, { step: 'wait' }>): Promise<Record<string, unknown>> {
  const started = ctx.clock.now();
  await sleep(step.for, ctx.signal);
  return { waitedMs: ctx.clock.now() - started };
}
