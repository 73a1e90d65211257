import { kubernetesKind } from './kubernetes/kubernetes-kind.js';
import { networkKind } from './network-proxy/network-kind.js';
import { postgresKind } from './postgres/postgres-kind.js';
import { regionsKind } from './regions/regions-kind.js';
import { serviceKind } from './service/service-kind.js';
import type { TargetKinds } from './target-kind.js';

/**
 * The target registry: one kind per key of the scenario's `targets`; the compiler checks none is
 * missing. A new kind (a DNS zone, a notification sink, a second region) is its part of the
 * schema under `targets`, its parts in target-parts.ts, and one entry here; the engine provisions
 * it without naming it (src/engine/provision-targets.ts).
 */
export const TARGET_KINDS: TargetKinds = {
  postgres: postgresKind,
  network: networkKind,
  service: serviceKind,
  kubernetes: kubernetesKind,
  regions: regionsKind,
};
