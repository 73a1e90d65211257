import createDebug from 'debug';
import type { DrillContext, FaultHandle } from '../engine/drill-context.js';
import { EnvironmentError, InputError } from '../engine/errors.js';
import type { Fault } from '../scenario/schema.js';
import type { LinkDegradation } from '../workload/database-link.js';

const debug = createDebug('drill:inject');

type NetworkFault = Extract<Fault, { type: 'network-latency' | 'network-bandwidth' | 'network-reset' | 'network-timeout' }>;

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
  if (!inEffect.some((d) => d.id === applied.id)) throw new EnvironmentError('TOXIC_NOT_APPLIED', `${link.description} took ${applied.id} but does not list it; check what else drives its API`);
  debug('%s on %s: %s', fault.type, link.description, applied.id);
  return {
    description: `${fault.type} on the database link (${link.description}): ${describe(degradation)}`,
    details: { link: link.description, degradation, ...applied.details, confirmedAt },
    inEffectAt: sentAt,
    async [Symbol.asyncDispose]() {
      // false: remove-network-fault healed it already.
      await link.heal(applied.id);
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
  }
}
