import { existsSync } from 'node:fs';
import { RbacAuthorizationV1Api } from '@kubernetes/client-node';
import createDebug from 'debug';
import { ABSENT, left, removed, type ReapOutcome } from '../../engine/reap-outcome.js';
import type { Resource } from '../../engine/resource-ledger.js';
import { loadKubeConfig } from './cluster-client.js';
import { isNotFound, kubeApi } from './kube-api.js';
import { RUN_LABEL, runLabelValue } from './manifest-set.js';

const debug = createDebug('drill:reaper');

/**
 * Removes a break-glass grant a killed drill left (enable-emergency-access: a RoleBinding and the
 * responder's ServiceAccount), each only while it carries the run's label and by its uid. Access
 * must not outlive the drill, even one killed with -9.
 */
export async function reapEmergencyAccess(r: Extract<Resource, { kind: 'k8s-emergency-access' }>): Promise<ReapOutcome> {
  if (!existsSync(r.kubeconfig)) return ABSENT;
  const what = `emergency access ${r.namespace}/${r.roleBinding} (service account ${r.serviceAccount})`;
  try {
    const api = kubeApi(loadKubeConfig(r.kubeconfig, r.context));
    const rbac = api.kc.makeApiClient(RbacAuthorizationV1Api);
    let any = false;
    const binding = await rbac.readNamespacedRoleBinding({ name: r.roleBinding, namespace: r.namespace }).catch((e: unknown) => (isNotFound(e) ? undefined : Promise.reject(e)));
    if (binding?.metadata?.labels?.[RUN_LABEL] === runLabelValue(r.runId)) {
      await rbac.deleteNamespacedRoleBinding({ name: r.roleBinding, namespace: r.namespace, body: { preconditions: { uid: binding.metadata.uid } } });
      any = true;
    }
    const account = await api.core.readNamespacedServiceAccount({ name: r.serviceAccount, namespace: r.namespace }).catch((e: unknown) => (isNotFound(e) ? undefined : Promise.reject(e)));
    if (account?.metadata?.labels?.[RUN_LABEL] === runLabelValue(r.runId)) {
      await api.core.deleteNamespacedServiceAccount({ name: r.serviceAccount, namespace: r.namespace, body: { preconditions: { uid: account.metadata.uid } } });
      any = true;
    }
    if (!any) return ABSENT;
    debug('removed leftover %s (context %s)', what, r.context);
    return removed(what);
  } catch (error) {
    if (isNotFound(error)) return ABSENT;
    return left(what, `cluster ${r.context} did not answer or refused: ${error instanceof Error ? error.message : String(error)}`);
  }
}
