import { existsSync } from 'node:fs';
import createDebug from 'debug';
import { loadKubeConfig } from './cluster-client.js';
import { drillNamespaceOfRun } from './drill-namespace.js';
import { isNotFound, kubeApi } from './kube-api.js';

const debug = createDebug('drill:reaper');

/**
 * Starts deleting a namespace a killed drill left in a cluster that outlives it. Returns whether
 * there was one to delete; an unreachable cluster or a missing kubeconfig is only logged (the
 * reaper must not fail the run over it). Only a namespace labelled with the drill's run
 * (`drill.dev/run`) is deleted: one that existed before the drill, or an entry without a run id
 * (an older ledger), is left alone.
 */
export async function reapNamespace(kubeconfig: string, context: string, name: string, runId: string | undefined): Promise<boolean> {
  if (!existsSync(kubeconfig) || runId === undefined) return false;
  try {
    const api = kubeApi(loadKubeConfig(kubeconfig, context));
    const uid = await drillNamespaceOfRun(api, name, runId);
    if (uid === undefined) return false;
    await api.core.deleteNamespace({ name, body: { preconditions: { uid } } });
    debug('deleting leftover namespace %s (context %s)', name, context);
    return true;
  } catch (error) {
    if (!isNotFound(error)) debug('could not delete namespace %s: %s', name, String(error));
    return false;
  }
}
