import createDebug from 'debug';
import type { Scenario } from '../scenario/schema.js';
import type { TargetEnvironment, TargetKey, TargetKind, TargetKinds } from '../targets/target-kind.js';
import type { TargetPart, TargetParts } from '../targets/target-parts.js';

const debug = createDebug('drill:engine');

/**
 * The registry's kinds in an order where each comes after the kinds its `after` names, otherwise
 * in registry order. A kind naming itself, an unknown kind, or a cycle is a mistake in the
 * registry, not in a scenario: a plain Error.
 */
export function provisioningOrder(kinds: TargetKinds): TargetKey[] {
  const keys = Object.keys(kinds) as TargetKey[];
  const order: TargetKey[] = [];
  const visiting = new Set<TargetKey>();
  const visit = (key: TargetKey, from?: TargetKey) => {
    if (order.includes(key)) return;
    if (!keys.includes(key)) throw new Error(`target kind ${from ?? '?'} comes after ${key}, which is not in the target registry`);
    if (visiting.has(key)) throw new Error(`target kinds depend on each other in a cycle through ${key}`);
    visiting.add(key);
    for (const before of kinds[key].after) visit(before, key);
    visiting.delete(key);
    order.push(key);
  };
  for (const key of keys) visit(key);
  return order;
}

/**
 * Provisions the kinds the scenario's `targets` names, in `provisioningOrder`, each seeing the
 * parts of those before it; returns every part they added. A kind the scenario does not name is
 * not touched: its parts stay absent.
 */
export async function provisionTargets(targets: Scenario['targets'], kinds: TargetKinds, env: TargetEnvironment): Promise<Partial<TargetParts>> {
  const parts: Partial<TargetParts> = {};
  for (const key of provisioningOrder(kinds)) {
    const spec = targets[key];
    if (spec === undefined) continue;
    debug('provisioning targets.%s', key);
    const kind = kinds[key] as TargetKind<TargetKey>;
    const added = await kind.provision(spec, { ...env, targets }, { ...parts });
    for (const [part, value] of Object.entries(added) as Array<[TargetPart, TargetParts[TargetPart] | undefined]>) {
      if (value === undefined) continue;
      if (!kind.provides.includes(part)) throw new Error(`target kind ${key} added ${part}, which its registry entry does not list in provides`);
      if (parts[part] !== undefined) throw new Error(`two target kinds provide ${part}; one part has one provider`);
      (parts as Record<TargetPart, unknown>)[part] = value;
    }
  }
  return parts;
}
