import { existsSync } from 'node:fs';
import createDebug from 'debug';
import { loadKubeConfig } from './cluster-client.js';
import { isNotFound, kubeApi } from './kube-api.js';

const debug = createDebug('drill:reaper');

/**
 * Starts deleting a namespace a killed drill left in a cluster that outlives it. Returns whether
 * there was one to delete; an unreachable cluster or a missing kubeconfig is only logged (the
 * reaper must not fail the run over it).
 */
export async function reapNamespace(kubeconfig: string, context: string, name: string): Promise<boolean> {
  if (!existsSync(kubeconfig)) return false;
  try {
    await kubeApi(loadKubeConfig(kubeconfig, context)).core.deleteNamespace({ name });
    debug('deleting leftover namespace %s (context %s)', name, context);
    return true;
  } catch (error) {
    if (!isNotFound(error)) debug('could not delete namespace %s: %s', name, String(error));
    return false;
  }
}
