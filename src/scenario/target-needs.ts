import { z } from 'zod';

/**
 * What a fault, recovery step, verify step or probe needs of the scenario's targets, declared on
 * its variant of the schema's unions (`needs(z.strictObject({...}), 'postgres')`) rather than read
 * from a name prefix, so a new variant states it where it is defined and `needs-rules.ts` checks it.
 *
 * - `postgres`, `kubernetes`: the target must be in `targets`.
 * - `own-cluster`: acts on nodes, which every namespace shares: not on a kubeconfig cluster.
 * - `replica`: acts on a streaming replica: `targets.postgres.replicas` of 1 or more.
 * - `service`: talks to the service under drill through its endpoints: `targets.service`.
 * - `regions`: acts on regions or the service's DNS name: `targets.regions`.
 * - `network`: acts on the link between the application and its database: `targets.network`.
 * - `service-processes`: restarts the service's plain processes on this machine: `targets.service`
 *   (not the pods of a Kubernetes drill, nor a region's processes).
 */
export type TargetNeed = 'postgres' | 'kubernetes' | 'own-cluster' | 'replica' | 'service' | 'regions' | 'network' | 'service-processes';

/** A need that only a setting of the variant brings, e.g. an http probe with `target: service`. */
export interface ConditionalNeed {
  key: string;
  value: string;
  needs: readonly TargetNeed[];
}

export const targetNeeds = z.registry<{ needs: readonly TargetNeed[]; when?: readonly ConditionalNeed[] }>();

/** Declares what `schema` (one option of a union) needs; returns the same schema. */
export function needs<T extends z.core.$ZodType>(schema: T, ...list: TargetNeed[]): T {
  targetNeeds.add(schema, { ...targetNeeds.get(schema), needs: list });
  return schema;
}

/**
 * Declares what `schema` needs when its `key` holds `value` (on top of what `needs` declared);
 * returns the same schema.
 */
export function needsWhen<T extends z.core.$ZodType>(schema: T, key: string, value: string, ...list: TargetNeed[]): T {
  const entry = targetNeeds.get(schema);
  targetNeeds.add(schema, { needs: entry?.needs ?? [], when: [...(entry?.when ?? []), { key, value, needs: list }] });
  return schema;
}

/** Undefined for a schema that declared nothing (a test checks every union option declares). */
export function needsOf(schema: z.core.$ZodType | undefined): readonly TargetNeed[] | undefined {
  return schema ? targetNeeds.get(schema)?.needs : undefined;
}

/** The needs a variant declared for particular settings (`needsWhen`). */
export function conditionalNeedsOf(schema: z.core.$ZodType | undefined): readonly ConditionalNeed[] {
  return (schema ? targetNeeds.get(schema)?.when : undefined) ?? [];
}
