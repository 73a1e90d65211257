import createDebug from 'debug';
import type { DrillContext } from '../engine/drill-context.js';
import { InputError, StepFailedError } from '../engine/errors.js';
import type { RecoveryStep } from '../scenario/schema.js';
import { replicaLag, type ReplicaLag } from '../targets/postgres/replica-lag.js';
import { awaitCaughtUp } from './await-caught-up.js';

const debug = createDebug('drill:recovery');

/**
 * The network between the regions recovers: every degradation on the inter-region link (the
 * region-partition's toxics) is removed, as the network team's fix would end it. The standbys'
 * lag is read just before (`lagBeforeHeal`: what the partition held back). Postconditions:
 * the proxy lists none, and the DR replica, if still a standby, replays up to the WAL position the
 * primary had right after the heal (await-caught-up.ts: lag 0 against it, journaled as
 * `replica-caught-up` with how far behind it was and how long it took). A DR replica promoted
 * during the partition is skipped: it has its own timeline now, and nothing to catch up to.
 */
export async function healRegionPartition(ctx: DrillContext, step: Extract<RecoveryStep, { step: 'heal-region-partition' }>): Promise<Record<string, unknown>> {
  const link = ctx.pg.replicationLink;
  if (!link) throw new InputError('REGION_LINK_MISSING', 'heal-region-partition heals the inter-region link, and no region-partition fault made one: add a region-partition fault');
  // Read while the partition still holds: once the link carries again the WAL receiver reconnects
  // and streams the backlog within milliseconds on loopback, so await-caught-up's reading after
  // the heal may already find none.
  const lagBeforeHeal = await lagOfStandbys(ctx);
  const removed: string[] = [];
  for (const { id } of await link.degradations()) if (await link.heal(id)) removed.push(id);
  const left = (await link.degradations()).map((d) => d.id);
  debug('removed %o from %s; left %o', removed, link.description, left);
  if (left.length > 0) throw new StepFailedError('NETWORK_FAULT_NOT_REMOVED', `${link.description} still applies ${left.join(', ')} after they were removed; check what else drives its API`);
  const catchUp = await awaitCaughtUp(ctx, step.timeout);
  return {
    link: link.description,
    between: [ctx.regions.primary.name, ctx.regions.dr.name],
    removed,
    lagBeforeHeal: lagBeforeHeal.map((l) => ({ replica: l.replica, bytesBehind: l.replayBytesBehind, notReceived: l.receiveBytesBehind, replayAgeMs: l.replayAgeMs })),
    catchUp,
  };
}

/** Each replica still a standby: how far behind the primary it is now. */
async function lagOfStandbys(ctx: DrillContext): Promise<ReplicaLag[]> {
  const lags: ReplicaLag[] = [];
  for (const replica of ctx.pg.replicas) {
    const lag = await replicaLag(ctx.pg.primary, replica).catch(() => undefined);
    if (lag?.inRecovery) lags.push(lag);
  }
  return lags;
}
