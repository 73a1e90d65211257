import { existsSync } from 'node:fs';
import createDebug from 'debug';
import { ABSENT, left, removed, type ReapOutcome } from '../../engine/reap-outcome.js';
import type { Resource } from '../../engine/resource-ledger.js';
import { loadKubeConfig } from './cluster-client.js';
import { drillNamespaceOfRun } from './drill-namespace.js';
import { isNotFound, kubeApi } from './kube-api.js';

const debug = createDebug('drill:reaper');

/**
 * Starts deleting a namespace a killed drill left in a cluster that outlives it (its deletion is
 * started, not awaited). Only a namespace labelled with the drill's run (`drill.dev/run`) is
 * deleted: one that existed before the drill, or an entry without a run id (an older ledger), is
 * not the drill's and counts as absent. A missing kubeconfig means the cluster is gone; a cluster
 * that does not answer leaves the entry for a later try.
 */
export async function reapNamespace(kubeconfig: string, context: string, name: string, runId: string | undefined): Promise<ReapOutcome> {
  if (!existsSync(kubeconfig) || runId === undefined) return ABSENT;
  const what = `namespace ${name}`;
  try {
    const api = kubeApi(loadKubeConfig(kubeconfig, context));
    const uid = await drillNamespaceOfRun(api, name, runId);
    if (uid === undefined) return ABSENT;
    await api.core.deleteNamespace({ name, body: { preconditions: { uid } } });
    debug('deleting leftover namespace %s (context %s)', name, context);
    return removed(what);
  } catch (error) {
    if (isNotFound(error)) return ABSENT;
    debug('could not delete namespace %s: %s', name, String(error));
    return left(what, `cluster ${context} did not answer or refused: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** The ledger's reaper for `k8s-namespace` entries (src/engine/reapers.ts). */
export function reapNamespaceEntry(r: Extract<Resource, { kind: 'k8s-namespace' }>): Promise<ReapOutcome> {
  return reapNamespace(r.kubeconfig, r.context, r.name, r.runId);
}
