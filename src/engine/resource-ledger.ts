import { appendFileSync, existsSync, readFileSync } from 'node:fs';

/**
 * A file in the run directory listing what a drill created outside itself (temp directories,
 * PostgreSQL data directories). The drill removes them in teardown; if the drill process is killed
 * before it can, `drill run` reads this file and reaps what is left (src/engine/reaper.ts).
 */
export type Resource =
  | { kind: 'temp-dir'; path: string }
  | { kind: 'pg-data-dir'; path: string; bindir: string; uid?: number; gid?: number }
  // A long-running program (etcd, kube-apiserver, kwok, ...); reaped only while its command line
  // still contains `match`, so a reused pid is never killed.
  | { kind: 'process'; pid: number; name: string; match: string }
  // A kind cluster; reaped with `kind delete cluster --name`.
  | { kind: 'kind-cluster'; name: string }
  // Containers on a Docker engine (`engine`: a DOCKER_HOST value), recorded before they start by the
  // labels they will carry; reaped by removing every container with all of those labels.
  | { kind: 'docker-container'; engine: string; labels: Record<string, string> }
  // A namespace a drill creates in a cluster it did not create (DRILL_KUBECONFIG); reaped by deleting
  // it, only while it carries the run's drill.dev/run label (runId is absent in older ledgers: kept).
  | { kind: 'k8s-namespace'; kubeconfig: string; context: string; name: string; runId?: string };

export class ResourceLedger {
  constructor(readonly file: string | undefined) {}

  record(resource: Resource): void {
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
