import createDebug from 'debug';
import type { DrillContext } from '../engine/drill-context.js';
import { sleep } from '../engine/clock.js';
import { InputError, StepFailedError } from '../engine/errors.js';
import { requireDrillTarget } from '../engine/require-drill-target.js';
import { drActivationMessage } from '../notify/drill-messages.js';
import type { RecoveryStep } from '../scenario/schema.js';
import { queryNow } from '../targets/regions/caching-resolver.js';
import { describeStatus, httpStatus } from '../targets/regions/http-status.js';
import type { Region } from '../targets/regions/types.js';
import { fenceLostRegion } from './fence-lost-region.js';
import { waitBudgetMs } from '../engine/step-wait-budget.js';
import { promoteReplica } from './promote-replica.js';

const debug = createDebug('drill:recovery');

type ActivateStep = Extract<RecoveryStep, { step: 'activate-dr-site' }>;

/**
 * Runbook Scenario 1 "Activate disaster recovery site" (`activate-dr-site.sh --primary-region
 * --dr-region [--automatic-failover]`), composed of the drill's own pieces:
 * 1. fence what is left of the primary region, if it still answers: its service processes that
 *    answer HTTP are killed, its database is killed if it answers SQL (STONITH: a lost region
 *    that comes back must not take writes beside the DR primary). What does not answer (killed,
 *    frozen, cut off) cannot be reached, as in a real region loss: said so, not pretended;
 * 2. promote the DR region's replica (promote-replica with `region:`);
 * 3. make it the application database: the DR service's processes already connect to it, and
 *    the same connections take writes once it is promoted (no restart);
 * 4. wait until every DR API process answers /health 200;
 * 5. with automaticFailover (failover routing), wait until the drill's DNS server answers the DR
 *    region's addresses: the health checks flip the answer, no UPSERT. The health transitions
 *    journaled so far give the split: fault → primary unhealthy → DNS answers DR.
 */
export async function activateDrSite(ctx: DrillContext, step: ActivateStep): Promise<Record<string, unknown>> {
  requireDrillTarget(ctx, 'activate-dr-site');
  const regions = ctx.regions;
  const lost = regionOf(ctx, step.primaryRegion, 'primaryRegion');
  const dr = regionOf(ctx, step.drRegion, 'drRegion');
  if (lost === dr) throw new InputError('REGION_SAME', `activate-dr-site names ${dr.name} as both the primary and the DR region; name two different regions`);
  if (step.automaticFailover && regions.routing !== 'failover') {
    throw new InputError('AUTOMATIC_FAILOVER_NEEDS_ROUTING', 'activate-dr-site automaticFailover: true needs failover routing: add targets.regions.dns.failover (or UPSERT the record with dns-failover)');
  }
  const start = ctx.clock.now();
  // Its own deadline a little before the engine's step timeout: a DR site that is not ready or a
  // DNS answer that never flips fails with what it saw (DR_SITE_NOT_READY, DNS_DID_NOT_FAIL_OVER),
  // not a bare STEP_TIMEOUT that always came first when both were the same instant.
  const deadline = start + waitBudgetMs(step.timeout);

  const fenced = await fenceLostRegion(lost, ctx.regions.port, (message, data) => ctx.recorder.event('fence', message, data));
  const fencedAt = ctx.clock.now();
  const promotion = await promoteReplica(ctx, { step: 'promote-replica', region: dr.name, timeout: Math.max(1_000, deadline - ctx.clock.now()) } as Extract<RecoveryStep, { step: 'promote-replica' }>);
  const promotedAt = ctx.clock.now();

  const moved = dr.database !== ctx.router.current;
  if (moved) {
    ctx.router.switchTo(dr.database);
    await ctx.writer.retarget();
  }

  const ready = await waitReady(ctx, dr, deadline);
  const readyAt = ctx.clock.now();

  const output: Record<string, unknown> = {
    primaryRegion: lost.name,
    drRegion: dr.name,
    fenced,
    promotion,
    database: { instance: dr.database.name, address: `${dr.database.connection.host}:${dr.database.connection.port}`, ...(moved ? {} : { unchanged: true }) },
    ready,
    fenceMs: Math.round(fencedAt - start),
    promoteMs: Math.round(promotedAt - fencedAt),
    readyMs: Math.round(readyAt - promotedAt),
  };
  if (step.automaticFailover) {
    const flippedAt = await waitForDnsFlip(ctx, dr, deadline);
    Object.assign(output, { dnsAnswersDrAfterMs: Math.round(flippedAt - start), healthTransitions: transitionsSinceFault(ctx) });
  }
  const notified = announceDrActivation(ctx, lost.name, dr.name);
  if (notified) output.notified = notified;
  debug('DR site %s active: %o', dr.name, output);
  return output;
}

/**
 * Runbook activate-dr-site.sh ends by telling everyone: with notifications: channels, "DR site
 * activated: primary region X lost, DR region Y serving" (trigger dr-activation), handed to the
 * channels and not awaited. Returns the channels, or undefined without any.
 */
export function announceDrActivation(ctx: Pick<DrillContext, 'notifier' | 'recorder'>, primaryRegion: string, drRegion: string): string[] | undefined {
  if (!ctx.notifier.enabled) return undefined;
  const records = ctx.notifier.send('dr-activation', (now) => drActivationMessage(ctx.recorder.journal, { incidentId: ctx.notifier.incidentId(now), primaryRegion, drRegion }));
  return records.map((r) => r.channel);
}

function regionOf(ctx: DrillContext, ref: string, key: string): Region {
  const region = ctx.regions.find(ref);
  if (!region) throw new InputError('REGION_UNKNOWN', `activate-dr-site ${key}: ${ref} is none of primary, dr, ${ctx.regions.primary.name}, ${ctx.regions.dr.name}; name one of them`);
  return region;
}

/** Every DR API process answers /health 200 (by address: the region's own processes, not the name). */
async function waitReady(ctx: DrillContext, dr: Region, deadline: number): Promise<Record<string, string>> {
  for (;;) {
    const results = await Promise.all(dr.apiAddresses.map(async (host) => [host, await httpStatus(host, ctx.regions.port, '/health', 2_000)] as const));
    if (results.every(([, r]) => 'status' in r && r.status === 200)) return Object.fromEntries(results.map(([h, r]) => [h, describeStatus(r)]));
    if (ctx.clock.now() > deadline) {
      throw new StepFailedError('DR_SITE_NOT_READY', `the DR region ${dr.name} is not ready: ${results.map(([h, r]) => `${h} /health ${describeStatus(r)}`).join('; ')}; see its service logs`);
    }
    await sleep(250, ctx.signal);
  }
}

/** Queries the drill's DNS server (no client cache) until it answers exactly the DR region's addresses. */
async function waitForDnsFlip(ctx: DrillContext, dr: Region, deadline: number): Promise<number> {
  const wanted = [...dr.apiAddresses].sort().join(',');
  let last = 'no answer yet';
  for (;;) {
    try {
      const answer = await queryNow(ctx.regions.dnsServer, ctx.regions.serviceName);
      if (answer.addresses.join(',') === wanted) return ctx.clock.now();
      last = answer.addresses.join(', ');
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    if (ctx.clock.now() > deadline) {
      throw new StepFailedError(
        'DNS_DID_NOT_FAIL_OVER',
        `the DNS server still answers ${ctx.regions.serviceName} with ${last}, not the DR region's ${wanted}: the health checks did not flip the failover record (transitions: ${JSON.stringify(transitionsSinceFault(ctx))})`,
      );
    }
    await sleep(200, ctx.signal);
  }
}

/** The health transitions after the fault, on the run clock (ms since the run began). */
function transitionsSinceFault(ctx: DrillContext): Array<Record<string, unknown>> {
  const tFault = ctx.recorder.journal.marks.tFault?.t;
  return ctx.regions
    .healthTransitions()
    .filter((t) => tFault === undefined || t.t >= tFault)
    .map((t) => ({ endpoint: t.endpoint, healthy: t.healthy, at: t.at, consecutive: t.consecutive, last: t.last, ...(tFault !== undefined ? { afterFaultMs: Math.round(t.t - tFault) } : {}) }));
}
