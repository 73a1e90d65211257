import createDebug from 'debug';
import { sleep } from '../../engine/clock.js';
import { EnvironmentError } from '../../engine/errors.js';
import { isNotFound, type KubeApi } from './kube-api.js';
import { runLabelValue, RUN_LABEL } from './manifest-set.js';
import { DRILL_TARGET_LABEL } from './types.js';

const debug = createDebug('drill:k8s');

/** `drill-<end of the run id>`: a valid namespace name (63 characters at most, lower-case, dashes). */
export function drillNamespaceName(runId: string): string {
  const tail = runId
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .replace(/-+/g, '-')
    .slice(-50)
    .replace(/^-+|-+$/g, '');
  return `drill-${tail || 'run'}`;
}

/** A fresh namespace marked as a drill target; fails if it exists (two drills must never share one). */
export async function createDrillNamespace(api: KubeApi, name: string, runId: string): Promise<void> {
  try {
    await api.core.createNamespace({
      body: { metadata: { name, labels: { [DRILL_TARGET_LABEL]: 'true', [RUN_LABEL]: runLabelValue(runId) } } },
    });
  } catch (error) {
    if ((error as { code?: number }).code === 409) {
      throw new EnvironmentError('NAMESPACE_EXISTS', `namespace ${name} already exists; another drill with the same run id is running, or a killed one left it: delete it (kubectl delete namespace ${name})`);
    }
    throw error;
  }
  debug('created namespace %s', name);
}

/**
 * Whether the namespace carries this run's label (`drill.dev/run=<run>`); its uid when it does, so
 * the deletion can be made conditional on that very namespace. Undefined when it is missing or
 * belongs to someone else: such a namespace is never deleted.
 */
export async function drillNamespaceOfRun(api: KubeApi, name: string, runId: string): Promise<string | undefined> {
  let ns;
  try {
    ns = await api.core.readNamespace({ name });
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
  if (ns.metadata?.labels?.[RUN_LABEL] !== runLabelValue(runId)) {
    debug('namespace %s is not labelled %s=%s; not deleting it', name, RUN_LABEL, runLabelValue(runId));
    return undefined;
  }
  return ns.metadata.uid;
}

/**
 * Deletes the namespace this run created and waits until it is gone (its pods and objects with
 * it). A namespace without this run's label is left alone.
 */
export async function deleteNamespace(api: KubeApi, name: string, options: { timeoutMs: number; runId: string }): Promise<void> {
  const uid = await drillNamespaceOfRun(api, name, options.runId);
  if (uid === undefined) return;
  try {
    await api.core.deleteNamespace({ name, body: { preconditions: { uid } } });
  } catch (error) {
    if (isNotFound(error)) return;
    throw error;
  }
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const gone = await api.core.readNamespace({ name }).then(
      () => false,
      (e: unknown) => isNotFound(e),
    );
    if (gone) {
      debug('namespace %s deleted', name);
      return;
    }
    if (Date.now() > deadline) {
      throw new EnvironmentError('NAMESPACE_NOT_DELETED', `namespace ${name} was still terminating ${options.timeoutMs / 1000}s after deletion; check its finalizers (kubectl get namespace ${name} -o yaml)`);
    }
    await sleep(250);
  }
}

/**
 * Pods are refused in a namespace until the service account controller has created its
 * `default` account; waiting here keeps ReplicaSet creation out of its retry back-off.
 */
export async function waitForDefaultServiceAccount(api: KubeApi, namespace: string, options: { timeoutMs: number; signal?: AbortSignal }): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    options.signal?.throwIfAborted();
    const found = await api.core.readNamespacedServiceAccount({ name: 'default', namespace }).then(
      () => true,
      () => false,
    );
    if (found) return;
    if (Date.now() > deadline) {
      throw new EnvironmentError('SERVICE_ACCOUNT_MISSING', `no "default" service account appeared in namespace ${namespace} within ${options.timeoutMs / 1000}s; is the controller manager's serviceaccount controller running?`);
    }
    await sleep(100, options.signal);
  }
}
