import { InputError } from '../engine/errors.js';
import type { DatabaseRouter } from '../workload/database-router.js';
import type { KubernetesTarget } from './kubernetes/kubernetes-target.js';
import type { PostgresDeployment } from './postgres/types.js';
import type { RegionSet } from './regions/types.js';
import type { ServiceTarget } from './service/types.js';

/**
 * What target kinds put into the drill context, by the name injectors, procedures and probes use
 * (`ctx.pg`, `ctx.service`, ...). Each is an interface at the boundary to a real system; what only
 * some implementations can do is an optional capability on it (`PgInstance.localProcesses`,
 * `KubernetesCluster.nodeAgents`, `ServiceTarget.restart`), never a class to test for.
 */
export interface TargetParts {
  /** The PostgreSQL deployment: primary, replicas, backups, restores. */
  pg: PostgresDeployment;
  /** The application database: the instance the workload uses now (it follows `switch-workload`). */
  router: DatabaseRouter;
  /** The cluster, namespace and API clients. */
  k8s: KubernetesTarget;
  /**
   * The service under drill as its clients reach it (endpoints, the drill's API token, optional
   * capabilities: follow a database switch, restart, error logs).
   */
  service: ServiceTarget;
  /** The regions, the service's DNS name, its Route 53 hosted zone and the drill's DNS server. */
  regions: RegionSet;
}

export type TargetPart = keyof TargetParts;

interface PartInfo<P extends TargetPart> {
  /** What a drill that uses it is said to use, in the error when it is absent. */
  what: string;
  /** The `targets.<key>` that provides it, named in that error. */
  target: string;
  /** The error's sentence, when the usual "this drill uses X, but ..." does not fit. */
  message?(what: string): string;
  /** How the provision phase's output shows it (key, and the value when present; absent: false). */
  reported?: { as: string; value(part: TargetParts[P]): unknown };
}

/** One entry per part; the compiler checks none is missing. Their order is the provision phase's output order. */
export const TARGET_PARTS: { readonly [P in TargetPart]: PartInfo<P> } = {
  pg: { what: 'PostgreSQL', target: 'postgres', reported: { as: 'postgres', value: () => true } },
  router: { what: 'the application database', target: 'postgres' },
  k8s: {
    what: 'Kubernetes',
    target: 'kubernetes',
    reported: { as: 'kubernetes', value: () => true },
    message: () => 'this drill acts on Kubernetes, but the scenario has no targets.kubernetes; add one (e.g. targets: {kubernetes: {provider: auto}})',
  },
  service: { what: 'the service under drill', target: 'service', reported: { as: 'service', value: (service) => service.description } },
  regions: { what: 'regions', target: 'regions', reported: { as: 'regions', value: (regions) => [regions.primary.name, regions.dr.name] } },
};

/**
 * The do-this error for a drill that uses `part` (or `what`, something built on it, e.g. the
 * canary writer on the application database) when the scenario's targets did not provide it.
 */
export function targetMissing(part: TargetPart, what: string = TARGET_PARTS[part].what): InputError {
  const info: PartInfo<TargetPart> = TARGET_PARTS[part];
  return new InputError('TARGET_MISSING', info.message?.(what) ?? `this drill uses ${what}, but the scenario has no targets.${info.target}; add one`);
}

/** What the provision phase reports of the parts a drill has: e.g. `{ postgres: true, kubernetes: false, service: "TrustStram 4.4.0 …" }`. */
export function provisionedParts(ctx: Readonly<TargetParts> & { has(part: TargetPart): boolean }): Record<string, unknown> {
  const report: Record<string, unknown> = {};
  for (const part of Object.keys(TARGET_PARTS) as TargetPart[]) {
    const info: PartInfo<TargetPart> = TARGET_PARTS[part];
    if (info.reported) report[info.reported.as] = ctx.has(part) ? info.reported.value(ctx[part]) : false;
  }
  return report;
}
