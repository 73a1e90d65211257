import type { DrillContext } from '../engine/drill-context.js';
import { StepFailedError } from '../engine/errors.js';
import type { RecoveryStep } from '../scenario/schema.js';
import { certainSkewMs, describeSkew } from '../workload/clock-reading.js';
import { readServiceClocks } from '../workload/service-clock.js';
import { serviceRestart } from './service-restart.js';

/** A synchronised clock is within this of the drill's (beyond the Date header's own bounds). */
export const SYNCED_WITHIN_MS = 2000;
const READ_TIMEOUT_MS = 5000;

/**
 * The operator's fix for a wrong host clock: NTP fixed (here: the processes' clock offset back to
 * 0, libfaketime no longer preloaded), then the service's processes restarted the way
 * service-restart does it (blue/green, every mode). Postcondition: every process answers with a
 * Date header within 2 s of the drill's clock; a process still off fails the step and names it.
 */
export async function clockSync(ctx: DrillContext, _step: Extract<RecoveryStep, { step: 'clock-sync' }>): Promise<Record<string, unknown>> {
  const restarted = await serviceRestart(ctx, {}, { clock: { offsetMs: 0 } });
  const readings = await readServiceClocks(await ctx.service.metricsEndpoints(), READ_TIMEOUT_MS, ctx.signal);
  const off = readings.filter((r) => !r.bounds || certainSkewMs(r.bounds, SYNCED_WITHIN_MS) !== 0);
  if (readings.length === 0 || off.length > 0) {
    const what = off.map((r) => (r.bounds ? `${r.endpoint} is ${describeSkew(certainSkewMs(r.bounds, SYNCED_WITHIN_MS))} (Date: ${r.date})` : `${r.endpoint} sent no Date header`));
    throw new StepFailedError('CLOCK_STILL_SKEWED', `after the clock sync: ${what.join('; ') || 'no process of the service answered'}`);
  }
  return { ...restarted, readings: readings.map((r) => ({ endpoint: r.endpoint, date: r.date, offsetLowMs: r.bounds!.lowMs, offsetHighMs: r.bounds!.highMs })) };
}
