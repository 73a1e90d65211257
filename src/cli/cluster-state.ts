import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { drillCacheDir } from '../engine/cache-dir.js';
import { InputError } from '../engine/errors.js';
import { recordedProcessAlive } from '../targets/kubernetes/recorded-process.js';

/**
 * What `drill cluster up` leaves for `drill cluster down` (and for people): one directory per
 * cluster name under ~/.cache/drill/clusters/ with state.json, the kubeconfig, the resource ledger
 * (so `down` can reap a cluster whose keeper was killed) and the keeper's log.
 */
export interface ClusterState {
  name: string;
  status: 'starting' | 'ready' | 'failed';
  /** The process keeping the cluster (it stops it on SIGTERM/SIGINT). */
  pid: number;
  /** Part of that process's command line, to tell it from a process that reused the pid. */
  match: string;
  kubeconfig: string;
  context?: string;
  server?: string;
  /** Fake nodes. */
  nodes?: string[];
  realNodes?: string[];
  /** The drill network a cluster with real nodes lives in (its API and pods are reachable only from inside). */
  network?: string;
  auditLog?: string;
  logsDir?: string;
  startedAt: string;
  error?: { code: string; message: string; kind: string };
}

export function clustersRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.DRILL_CLUSTERS_DIR) return env.DRILL_CLUSTERS_DIR;
  return path.join(drillCacheDir(env), 'clusters');
}

export function checkClusterName(name: string): string {
  if (!/^[a-z0-9][a-z0-9-]{0,39}$/.test(name)) {
    throw new InputError('BAD_CLUSTER_NAME', `cluster name "${name}" must be 1-40 lowercase letters, digits or dashes, starting with a letter or digit`);
  }
  return name;
}

export interface ClusterFiles {
  dir: string;
  state: string;
  kubeconfig: string;
  resources: string;
  log: string;
}

export function clusterFiles(name: string, env: NodeJS.ProcessEnv = process.env): ClusterFiles {
  const dir = path.join(clustersRoot(env), checkClusterName(name));
  return {
    dir,
    state: path.join(dir, 'state.json'),
    kubeconfig: path.join(dir, 'kubeconfig'),
    resources: path.join(dir, 'resources.jsonl'),
    log: path.join(dir, 'cluster.log'),
  };
}

export function readClusterState(files: ClusterFiles): ClusterState | undefined {
  if (!existsSync(files.state)) return undefined;
  try {
    return JSON.parse(readFileSync(files.state, 'utf8')) as ClusterState;
  } catch {
    return undefined;
  }
}

/** Written by rename, so a reader never sees half a file. */
export function writeClusterState(files: ClusterFiles, state: ClusterState): void {
  const tmp = `${files.state}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(tmp, files.state);
}

export function keeperAlive(state: ClusterState): boolean {
  return recordedProcessAlive(state.pid, state.match);
}

export function listClusterNames(env: NodeJS.ProcessEnv = process.env): string[] {
  const root = clustersRoot(env);
  if (!existsSync(root)) return [];
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
}
