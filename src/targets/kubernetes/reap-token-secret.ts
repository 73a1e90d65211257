import { existsSync } from 'node:fs';
import createDebug from 'debug';
import { ABSENT, left, removed, type ReapOutcome } from '../../engine/reap-outcome.js';
import type { Resource } from '../../engine/resource-ledger.js';
import { loadKubeConfig } from './cluster-client.js';
import { isNotFound, kubeApi } from './kube-api.js';
import { RUN_LABEL, runLabelValue } from './manifest-set.js';

const debug = createDebug('drill:reaper');

/**
 * Deletes a service-account token Secret a killed drill left (a legacy token in it would work for
 * ever), only while it carries the run's label and by its uid; a missing kubeconfig means the
 * cluster is gone, a cluster that does not answer leaves the entry for a later try.
 */
export async function reapTokenSecret(r: Extract<Resource, { kind: 'k8s-token-secret' }>): Promise<ReapOutcome> {
  if (!existsSync(r.kubeconfig)) return ABSENT;
  const what = `token Secret ${r.namespace}/${r.name}`;
  try {
    const api = kubeApi(loadKubeConfig(r.kubeconfig, r.context));
    const secret = await api.core.readNamespacedSecret({ name: r.name, namespace: r.namespace });
    if (secret.metadata?.labels?.[RUN_LABEL] !== runLabelValue(r.runId)) return ABSENT;
    await api.core.deleteNamespacedSecret({ name: r.name, namespace: r.namespace, body: { preconditions: { uid: secret.metadata.uid } } });
    debug('deleted leftover %s (context %s)', what, r.context);
    return removed(what);
  } catch (error) {
    if (isNotFound(error)) return ABSENT;
    return left(what, `cluster ${r.context} did not answer or refused: ${error instanceof Error ? error.message : String(error)}`);
  }
}
