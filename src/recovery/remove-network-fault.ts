import createDebug from 'debug';
import type { DrillContext } from '../engine/drill-context.js';
import { InputError, StepFailedError } from '../engine/errors.js';
import { FAULT_OF_KIND } from '../scenario/network-schema.js';
import type { RecoveryStep } from '../scenario/schema.js';
import { awaitCaughtUp } from './await-caught-up.js';

const debug = createDebug('drill:recovery');

/**
 * The network recovers: the degradations on the application's database link are removed (all,
 * or those of the fault types the step names), as the network team's fix would end them.
 * Postcondition: the proxy lists none of them. Connections that were reset or hung meanwhile are
 * not repaired by this: the application recovers them itself, or a service-restart recycles its pool.
 * With `link: replication` the faults on the replicas' WAL stream are removed, and (when none is
 * kept) the postcondition includes every replica catching up (await-caught-up.ts).
 */
export async function removeNetworkFault(ctx: DrillContext, step: Extract<RecoveryStep, { step: 'remove-network-fault' }>): Promise<Record<string, unknown>> {
  const link = step.link === 'replication' ? ctx.pg.replicationLink : ctx.router.link;
  if (!link && step.link === 'replication') {
    throw new InputError('REPLICATION_LINK_MISSING', 'remove-network-fault with link: replication heals the link the replicas stream over, and no fault made one: add a network fault with link: replication');
  }
  if (!link) throw new InputError('NETWORK_LINK_MISSING', 'remove-network-fault acts on the link between the application and its database: add targets.network (e.g. network: {proxy: toxiproxy})');
  const wanted = (kind: keyof typeof FAULT_OF_KIND) => !step.faults || step.faults.includes(FAULT_OF_KIND[kind]);
  const removed: string[] = [];
  for (const { id, kind } of await link.degradations()) if (wanted(kind) && (await link.heal(id))) removed.push(id);
  const after = await link.degradations();
  const left = after.filter((d) => wanted(d.kind)).map((d) => d.id);
  const kept = after.filter((d) => !wanted(d.kind)).map((d) => d.id);
  debug('removed %o from %s; left %o, kept %o', removed, link.description, left, kept);
  if (left.length > 0) throw new StepFailedError('NETWORK_FAULT_NOT_REMOVED', `${link.description} still applies ${left.join(', ')} after they were removed; check what else drives its API`);
  const caughtUp = step.link === 'replication' && kept.length === 0 ? { catchUp: await awaitCaughtUp(ctx, step.timeout) } : {};
  return { link: link.description, on: step.link, removed, ...(kept.length > 0 ? { kept } : {}), ...caughtUp };
}
