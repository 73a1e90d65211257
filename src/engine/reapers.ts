import { reapContainerd } from '../targets/containerd/reap-containerd.js';
import { reapDockerContainers } from '../targets/docker/reap-docker-containers.js';
import { reapCgroup } from '../targets/kubernetes/real-nodes/reap-cgroup.js';
import { reapNetwork } from '../targets/network/reap-network.js';
import { reapRecordedProcess } from '../targets/kubernetes/recorded-process.js';
import { reapKindCluster } from '../targets/kubernetes/reap-kind-cluster.js';
import { reapLocalCluster } from '../targets/kubernetes/reap-local-cluster.js';
import { reapPostgresDataDir } from '../targets/postgres/reap-data-dir.js';
import { reapMount } from '../targets/process/reap-mount.js';
import { reapNftTable } from '../targets/network-nft/reap-nft-table.js';
import { reapLimitCgroup } from '../targets/process/reap-limit-cgroup.js';
import { reapFuseMount } from '../targets/process/reap-fuse-mount.js';
import type { ReapOutcome } from './reap-outcome.js';
import { reapTempDir } from './reap-temp-dir.js';
import type { Resource, ResourceKind } from './resource-ledger.js';

/**
 * The order in which a ledger is reaped, by stage: what uses a thing goes before the thing. A new
 * resource kind picks the stage it belongs to; stages without a kind yet are where the announced
 * ones go.
 */
export const REAP_STAGES = [
  // Objects in a cluster that outlives the drill (namespaces): first, while that cluster answers.
  'cluster-objects',
  // Programs: PostgreSQL (native, or in a container), control-plane components (containerd instances go here).
  'processes',
  // Whole clusters (kind), once nothing of the drill talks to them.
  'clusters',
  // Mounts, once no process of the drill keeps them busy.
  'mounts',
  // Network namespaces and `unreachable` guard routes of the root namespace, once no process is in them.
  'network',
  // cgroup (v1) directories: removable only when empty of processes.
  'cgroups',
  // Kernel settings (sysctl) put back to the value recorded before the drill changed them.
  'kernel-settings',
  // Directories last: they hold data directories, sockets and mount points of the stages above.
  'directories',
] as const;

export type ReapStage = (typeof REAP_STAGES)[number];

export interface ResourceReaper<R extends Resource> {
  stage: ReapStage;
  /**
   * Removes the resource if it still exists and is still the one the drill created (a process by
   * pid and command line or data directory, never by name alone; a namespace or cluster only when
   * it carries the run's marks). Never throws: what cannot be removed is `left`, with why.
   */
  reap(resource: R): Promise<ReapOutcome>;
}

/**
 * One reaper per kind of the Resource union; the compiler checks none is missing. Those of objects
 * in a cluster or a hosted zone import their client when there is one to reap: every `drill` command
 * loads this table, and the Kubernetes client and AWS SDK take half a second to load.
 */
const REAPERS: { [K in ResourceKind]: ResourceReaper<Extract<Resource, { kind: K }>> } = {
  // Before its namespace (which, when the drill's, takes the Secret with it anyway).
  'k8s-token-secret': { stage: 'cluster-objects', reap: async (r) => (await import('../targets/kubernetes/reap-token-secret.js')).reapTokenSecret(r) },
  'k8s-emergency-access': { stage: 'cluster-objects', reap: async (r) => (await import('../targets/kubernetes/reap-emergency-access.js')).reapEmergencyAccess(r) },
  'k8s-namespace': { stage: 'cluster-objects', reap: async (r) => (await import('../targets/kubernetes/reap-namespace.js')).reapNamespaceEntry(r) },
  // A record in someone else's hosted zone: like an object in someone else's cluster, first.
  'route53-record': { stage: 'cluster-objects', reap: async (r) => (await import('../targets/regions/reap-route53-record.js')).reapRoute53Record(r) },
  'pg-data-dir': { stage: 'processes', reap: reapPostgresDataDir },
  process: { stage: 'processes', reap: reapRecordedProcess },
  // A container holds a deployment's servers: removing it stops them all.
  'docker-container': { stage: 'processes', reap: reapDockerContainers },
  'kind-cluster': { stage: 'clusters', reap: reapKindCluster },
  'local-cluster': { stage: 'clusters', reap: reapLocalCluster },
  // After its process: containers, shims and mounts it leaves, then its directory.
  containerd: { stage: 'mounts', reap: reapContainerd },
  // A disk fault's volume, once the PostgreSQL writing to it is stopped; before its temp dir.
  mount: { stage: 'mounts', reap: reapMount },
  // A data directory on drillfs, once the PostgreSQL using it is stopped; the daemon ends with it.
  'fuse-mount': { stage: 'mounts', reap: reapFuseMount },
  // Real nodes' cgroups and the drill network, once no process of the drill is left in them.
  netns: { stage: 'network', reap: reapNetwork },
  'guard-route': { stage: 'network', reap: reapNetwork },
  // A packet fault's table: nothing uses it but the kernel, so with the network.
  'nft-table': { stage: 'network', reap: reapNftTable },
  cgroup: { stage: 'cgroups', reap: reapCgroup },
  // A resource fault's limit: what is still inside goes back to where it came from first.
  'limit-cgroup': { stage: 'cgroups', reap: reapLimitCgroup },
  'temp-dir': { stage: 'directories', reap: reapTempDir },
};

export function reaperFor<R extends Resource>(resource: R): ResourceReaper<R> {
  return REAPERS[resource.kind] as unknown as ResourceReaper<R>;
}

/**
 * The ledger's entries in reaping order: by stage, and within a stage newest first (a control
 * plane's kwok and controllers stop before its apiserver, the apiserver before etcd). An entry
 * recorded twice is reaped once.
 */
export function reapingOrder(resources: Resource[]): Resource[] {
  const seen = new Set<string>();
  const unique = resources
    .slice()
    .reverse()
    .filter((r) => {
      const key = JSON.stringify(r);
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  const rank = (r: Resource) => REAP_STAGES.indexOf(reaperFor(r).stage);
  // Array.prototype.sort is stable: newest-first holds within a stage.
  return unique.sort((a, b) => rank(a) - rank(b));
}
