import createDebug from 'debug';
import type { DrillContext, FaultHandle } from '../engine/drill-context.js';
import { EnvironmentError, InputError } from '../engine/errors.js';
import type { Fault } from '../scenario/schema.js';
import type { DatabaseLink, LinkDegradation } from '../workload/database-link.js';

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
 * targets.network). T_fault is the instant the request to the proxy was sent: the toxic cannot be
 * in effect earlier, and the proxy applies it to open connections as it takes it. The proxy's own
 * list of toxics is read back to confirm it (`confirmedAt`). The handle removes the toxic unless
 * recovery (remove-network-fault) already did.
 */
export async function injectNetworkFault(ctx: DrillContext, fault: NetworkFault): Promise<FaultHandle> {
  const link = ctx.router.link;
  if (!link) throw new InputError('NETWORK_LINK_MISSING', `${fault.type} acts on the link between the application and its database: add targets.network (e.g. network: {proxy: toxiproxy})`);
  const degradation = degradationOf(fault);
  const sentAt = ctx.clock.now();
  const applied = await link.degrade(degradation);
  const inEffect = await link.degradations();
  const confirmedAt = ctx.clock.now();
  if (!inEffect.some((d) => d.id === applied.id)) throw new EnvironmentError('TOXIC_NOT_APPLIED', `${link.description} took ${applied.id} but does not list it; check what else drives its API (or, for a packet fault, what else edits nftables)`);
  debug('%s on %s: %s', fault.type, link.description, applied.id);
  const ends = fault.duration !== undefined ? endBySelf(ctx, link, applied.id, fault.type, sentAt + fault.duration) : undefined;
  return {
    description: `${fault.type} on the database link (${link.description}): ${describe(degradation)}${fault.duration !== undefined ? `, for ${fault.duration} ms` : ''}`,
    details: { link: link.description, degradation, ...applied.details, confirmedAt, ...(fault.duration !== undefined ? { endsAt: sentAt + fault.duration } : {}) },
    inEffectAt: sentAt,
    async [Symbol.asyncDispose]() {
      await ends?.stop();
      // false: remove-network-fault (or the fault's own end) healed it already.
      await link.heal(applied.id);
    },
  };
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

function describe(d: LinkDegradation): string {
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
