import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import type { RunLedger } from './run-ledger.js';

/**
 * What a drill created outside itself (temp directories, PostgreSQL data directories, programs,
 * clusters, namespaces). The drill removes them in teardown; if it is killed before it can, the
 * reaper (src/engine/reaper.ts) removes what is left. Each kind has exactly one reaper, registered
 * in src/engine/reapers.ts: a new kind is a member here plus its entry there.
 */
export type Resource =
  | { kind: 'temp-dir'; path: string }
  | { kind: 'pg-data-dir'; path: string; bindir: string; uid?: number; gid?: number }
  // A long-running program (etcd, kube-apiserver, kwok, ...); reaped only while its command line
  // still contains `match` (and, when recorded, it has the same start time), so a reused pid is never killed.
  | { kind: 'process'; pid: number; name: string; match: string; startTime?: string }
  // A private containerd's directory (src/targets/containerd): after its `process` entry is stopped,
  // its leftover containers (runc state in runcRoot), shims (`-address <socket>` on their command
  // line), mounts under dir and dir itself are removed.
  | { kind: 'containerd'; dir: string; socket: string; runcRoot: string }
  // The control plane `drill run --parallel N` starts for the Kubernetes drills that share it
  // (src/cli/shared-cluster-plan.ts): a `drill cluster up` cluster named `name` under the clusters
  // directory `root`, recorded before its keeper starts; reaped like `drill cluster down --name`.
  | { kind: 'local-cluster'; name: string; root: string }
  // A kind cluster; reaped with `kind delete cluster --name`.
  | { kind: 'kind-cluster'; name: string }
  // Containers on a Docker engine (`engine`: a DOCKER_HOST value), recorded before they start by the
  // labels they will carry; reaped by removing every container with all of those labels.
  | { kind: 'docker-container'; engine: string; labels: Record<string, string> }
  // A namespace a drill creates in a cluster it did not create (DRILL_KUBECONFIG); reaped by deleting
  // it, only while it carries the run's drill.dev/run label (runId is absent in older ledgers: kept).
  | { kind: 'k8s-namespace'; kubeconfig: string; context: string; name: string; runId?: string }
  // A service-account token Secret a credential-leak creates (a legacy one never expires): recorded
  // before it exists, reaped by deleting it while it carries the run's drill.dev/run label.
  | { kind: 'k8s-token-secret'; kubeconfig: string; context: string; namespace: string; name: string; runId: string }
  // A break-glass grant of enable-emergency-access (a RoleBinding and the responder's ServiceAccount):
  // recorded before it exists, reaped by deleting both while they carry the run's drill.dev/run label.
  | { kind: 'k8s-emergency-access'; kubeconfig: string; context: string; namespace: string; roleBinding: string; serviceAccount: string; runId: string }
  // A cgroupfs path (the same in every cgroup v1 hierarchy) a real node's pods lived under; removed
  // bottom-up once its processes are gone.
  | { kind: 'cgroup'; path: string }
  // A resource fault's cgroup (src/targets/process/limit-cgroup.ts) in one v1 hierarchy (mounted at
  // `mount`): `path` is `<origin>/drill/<runId>/<name>`, `origin` the cgroup the server came from,
  // where the reaper moves what is still inside before it removes it.
  | { kind: 'limit-cgroup'; controller: 'cpu' | 'memory'; mount: string; path: string; origin: string; runId: string }
  // A size-limited tmpfs a disk fault fills (src/targets/process/tmpfs-volume.ts), mounted at `path`
  // under a drill temp directory with the mount source `source` (drill-…): unmounted only while both match.
  | { kind: 'mount'; path: string; source: string }
  // A drillfs FUSE mount (src/targets/process/drillfs-mount.ts) at `path`, with the source name
  // `source` (drill-…): unmounted only while both match; its daemon ends with the mount.
  | { kind: 'fuse-mount'; path: string; source: string }
  // The drill network: a network namespace by name, and the guard route of the root namespace.
  | { kind: 'netns'; name: string }
  | { kind: 'guard-route'; cidr: string; metric: number }
  // An nftables table of a packet fault (network-loss, network-partition, region-outage's network: drop: src/targets/network-nft),
  // recorded before nft creates it; reaped by deleting it (by its handle) only while its name is a
  // drill table name (inet drill_<run>_<n>) and the table itself carries `comment`, the run's marker
  // (`drill run <run id>`). Absent in older ledgers: such a table is left, never deleted on its name alone.
  | { kind: 'nft-table'; family: 'inet'; name: string; comment?: string }
  // A record name the drill writes in a Route 53 hosted zone it did not create (targets.regions.dns.route53),
  // recorded before its owner marker exists; reaped by deleting its A records and the marker only while
  // the marker is the run's. `endpoint` absent: AWS itself. Never credentials (the reaper uses the AWS chain).
  | { kind: 'route53-record'; endpoint?: string; region: string; zoneId: string; zoneName: string; name: string; runId: string };

export type ResourceKind = Resource['kind'];

/**
 * Records each resource twice: in the run directory (`resources.jsonl`, part of the run's record)
 * and in the machine-wide run ledger (src/engine/run-ledger.ts), where `drill run` and
 * `drill cleanup` find it even when nobody knows the run directory.
 */
export class ResourceLedger {
  constructor(
    readonly file: string | undefined,
    private readonly machine?: RunLedger,
  ) {}

  record(resource: Resource): void {
    // The machine-wide entry first: it is the one a reaper on another day will look for.
    this.machine?.record(resource);
    if (this.file) appendFileSync(this.file, `${JSON.stringify(resource)}\n`);
  }
}

export function readResources(file: string): Resource[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Resource);
}
