import createDebug from 'debug';
import type { DrillContext, FaultHandle } from '../engine/drill-context.js';
import { EnvironmentError, InputError } from '../engine/errors.js';
import type { Fault } from '../scenario/schema.js';
import type { DatabaseLink, LinkDegradation } from '../workload/database-link.js';
import { sleep } from '../engine/clock.js';
import { formatDuration } from '../scenario/duration.js';
import { ReplicationLagWatch } from './replication-lag-watch.js';
import { lsnDiff } from '../targets/postgres/lsn.js';

const debug = createDebug('drill:inject');

type NetworkFault = Extract<Fault, { type: 'network-latency' | 'network-bandwidth' | 'network-reset' | 'network-timeout' | 'network-loss' | 'network-partition' }>;

/** What each network fault asks of the link (pure). */
export function degradationOf(fault: NetworkFault): LinkDegradation {
  switch (fault.type) {
    case 'network-latency':
      return { kind: 'latency', latencyMs: fault.latency, jitterMs: fault.jitter };
    case 'network-bandwidth':
      return { kind: 'bandwidth', kilobytesPerSecond: fault.rate };
    case 'network-reset':
      return { kind: 'reset' };
    case 'network-timeout':
      return { kind: 'timeout' };
    case 'network-loss':
      return { kind: 'loss', percent: fault.percent };
    case 'network-partition':
      return { kind: 'partition' };
  }
}

/**
 * Degrades the application's link to its database (the router's `link`, put there by
 * targets.network), or with `link: replication` the link the replicas stream WAL over (the
 * deployment's `replicationLink`, made before the replicas). T_fault is the instant the request to
 * the proxy was sent: the toxic cannot be in effect earlier, and the proxy applies it to open
 * connections as it takes it. The proxy's own list of toxics is read back to confirm it
 * (`confirmedAt`). The handle removes the toxic unless recovery (remove-network-fault) already did.
 *
 * On the replication link the replicas' lag is read once a second while the fault lasts
 * (ReplicationLagWatch). With `holdFor` the fault holds that long, proves the replicas fell behind,
 * and is a precondition of the next fault (the failover), which sets T_fault.
 */
export async function injectNetworkFault(ctx: DrillContext, fault: NetworkFault): Promise<FaultHandle> {
  const holdFor = 'holdFor' in fault ? fault.holdFor : undefined;
  const link = linkOf(ctx, fault);
  const where = fault.link === 'replication' ? 'the replication link' : 'the database link';
  const degradation = degradationOf(fault);
  const sentAt = ctx.clock.now();
  const applied = await link.degrade(degradation);
  const inEffect = await link.degradations();
  const confirmedAt = ctx.clock.now();
  if (!inEffect.some((d) => d.id === applied.id)) throw new EnvironmentError('TOXIC_NOT_APPLIED', `${link.description} took ${applied.id} but does not list it; check what else drives its API (or, for a packet fault, what else edits nftables)`);
  debug('%s on %s: %s', fault.type, link.description, applied.id);
  const watch = fault.link === 'replication' ? ReplicationLagWatch.start(ctx, async () => (await link.degradations()).some((d) => d.id === applied.id)) : undefined;
  const ends = fault.duration !== undefined ? endBySelf(ctx, link, applied.id, fault.type, sentAt + fault.duration) : undefined;
  const undo = async () => {
    await watch?.stop();
    await ends?.stop();
    // false: remove-network-fault (or the fault's own end) healed it already.
    await link.heal(applied.id);
  };
  let held: Record<string, unknown> = {};
  if (watch && holdFor !== undefined) {
    try {
      held = await holdBroken(ctx, watch, fault, holdFor, link.description);
    } catch (error) {
      await undo().catch(() => undefined);
      throw error;
    }
  }
  return {
    description: `${fault.type} on ${where} (${link.description}): ${describe(degradation, fault.link)}${fault.duration !== undefined ? `, for ${fault.duration} ms` : ''}${holdFor !== undefined ? `, held ${formatDuration(holdFor)} before the next fault` : ''}`,
    details: { link: link.description, on: fault.link, degradation, ...applied.details, confirmedAt, ...(fault.duration !== undefined ? { endsAt: sentAt + fault.duration } : {}), ...held },
    inEffectAt: sentAt,
    ...(holdFor !== undefined ? { precondition: true } : {}),
    async [Symbol.asyncDispose]() {
      await undo();
    },
  };
}

function linkOf(ctx: DrillContext, fault: NetworkFault): DatabaseLink {
  if (fault.link === 'replication') {
    const link = ctx.pg.replicationLink;
    // The schema asks for replicas; the engine builds them through the proxy when a fault names this link.
    if (!link) throw new InputError('REPLICATION_LINK_MISSING', `${fault.type} with link: replication acts on the link the replicas stream over: set targets.postgres.replicas: 1 or more (provider: native)`);
    return link;
  }
  const link = ctx.router.link;
  if (!link) throw new InputError('NETWORK_LINK_MISSING', `${fault.type} acts on the link between the application and its database: add targets.network (e.g. network: {proxy: toxiproxy})`);
  return link;
}

/**
 * The replication link stays broken for `holdFor` while the application writes; then the proof
 * that it was, for a breaking fault (reset, timeout): over the second half of the hold (the first
 * lets WAL already in flight land) the primary wrote WAL and no replica received any of it.
 * Otherwise the drill would measure nothing: an environment error says which.
 */
async function holdBroken(ctx: DrillContext, watch: ReplicationLagWatch, fault: NetworkFault, holdFor: number, description: string): Promise<Record<string, unknown>> {
  await sleep(holdFor / 2, ctx.signal);
  const middle = await watch.read();
  await sleep(holdFor - holdFor / 2, ctx.signal);
  const end = await watch.read();
  if (fault.type === 'network-reset' || fault.type === 'network-timeout') {
    const problems = end.flatMap((lag) => {
      const before = middle.find((m) => m.replica === lag.replica);
      if (!before) return [`${lag.replica} was not a standby halfway through`];
      if (lsnDiff(lag.primaryLsn, before.primaryLsn) <= 0) return [`the primary wrote no WAL in the second half of the hold (is the canary writing?)`];
      if (lag.receiveLsn !== before.receiveLsn) return [`${lag.replica} went on receiving WAL (${before.receiveLsn} → ${lag.receiveLsn}; does restore_command or another path feed it?)`];
      return [];
    });
    if (problems.length > 0 || end.length === 0) {
      throw new EnvironmentError(
        'REPLICATION_LINK_NOT_BROKEN',
        `${fault.type} on ${description} held ${formatDuration(holdFor)}, and the replicas' lag cannot be shown to have grown: ${problems.join('; ') || 'no replica is a standby'}`,
      );
    }
  }
  return { heldForMs: holdFor, lagAtEndOfHold: end };
}

/**
 * A fault with a `duration` ends by itself: its toxic is removed at `at` (on the drill's clock) and
 * a `fault-ended` event records when the proxy confirmed it (the link was degraded until then).
 * The timer does not hold the process; teardown cancels it and removes the toxic itself.
 */
function endBySelf(ctx: DrillContext, link: DatabaseLink, id: string, type: string, at: number): { stop(): Promise<void> } {
  let healing: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  const heal = () => {
    const sentAt = ctx.clock.now();
    healing = link
      .heal(id)
      .then((removed) => {
        if (removed) ctx.recorder.event('fault-ended', `${type} ended by itself: ${id} removed from ${link.description}`, { toxic: id, sentAt, confirmedAt: ctx.clock.now() });
      })
      .catch((error: unknown) => debug('ending %s: %s', id, error instanceof Error ? error.message : String(error)));
  };
  // A timer may fire a fraction of a millisecond before the drill's clock says its delay is over
  // (seen: 2999.2 ms of a 3000 ms fault): re-arm for what is left, so the fault lasts its duration.
  const arm = () => {
    const left = at - ctx.clock.now();
    if (left > 0) {
      timer = setTimeout(arm, Math.ceil(left));
      timer.unref();
    } else heal();
  };
  arm();
  return {
    // Not yet fired: never will; fired: its heal finishes first.
    async stop() {
      clearTimeout(timer);
      await healing;
    },
  };
}

function describe(d: LinkDegradation, on: NetworkFault['link']): string {
  if (on === 'replication') {
    switch (d.kind) {
      case 'latency':
        return `the primary's WAL reaches the replicas ${d.latencyMs} ms${d.jitterMs > 0 ? ` ± ${d.jitterMs} ms` : ''} later`;
      case 'bandwidth':
        return `the primary's WAL reaches the replicas at no more than ${d.kilobytesPerSecond} KB/s`;
      case 'reset':
        return 'every replication connection reset when the primary sends on it';
      case 'timeout':
        return "the primary's WAL dropped, replication connections left hanging";
    }
  }
  switch (d.kind) {
    case 'latency':
      return `+${d.latencyMs} ms${d.jitterMs > 0 ? ` ± ${d.jitterMs} ms` : ''} on every answer`;
    case 'bandwidth':
      return `answers throttled to ${d.kilobytesPerSecond} KB/s`;
    case 'reset':
      return 'every connection reset when the application sends';
    case 'timeout':
      return 'connections accepted, nothing answered';
    case 'loss':
      return `${d.percent} % of the link's loopback packets dropped by the kernel (nftables)`;
    case 'partition':
      return "every loopback packet to and from the link's listener dropped by the kernel (nftables)";
  }
}
