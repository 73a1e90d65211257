import { z } from 'zod';

/**
 * What a fault, recovery step or probe needs of the scenario's targets, declared on its variant
 * of the schema's unions (`needs(z.strictObject({...}), 'postgres')`) rather than read from a
 * name prefix, so a new variant states it where it is defined and `needs-rules.ts` checks it.
 *
 * - `postgres`, `kubernetes`: the target must be in `targets`.
 * - `own-cluster`: acts on nodes, which every namespace shares: not on a kubeconfig cluster.
 * - `replica`: acts on a streaming replica: `targets.postgres.replicas` of 1 or more.
 */
export type TargetNeed = 'postgres' | 'kubernetes' | 'own-cluster' | 'replica';

export const targetNeeds = z.registry<{ needs: readonly TargetNeed[] }>();

/** Declares what `schema` (one option of a union) needs; returns the same schema. */
export function needs<T extends z.core.$ZodType>(schema: T, ...list: TargetNeed[]): T {
  targetNeeds.add(schema, { needs: list });
  return schema;
}

/** Undefined for a schema that declared nothing (a test checks every union option declares). */
export function needsOf(schema: z.core.$ZodType | undefined): readonly TargetNeed[] | undefined {
  return schema ? targetNeeds.get(schema)?.needs : undefined;
}
