import type { KubernetesObject, V1Deployment } from '@kubernetes/client-node';
import createDebug from 'debug';
import { sleep } from '../../engine/clock.js';
import { EnvironmentError } from '../../engine/errors.js';
import { apiMessage, isNotFound, type KubeApi } from './kube-api.js';
import { selectorFromLabels } from './label-selector.js';
import { serviceReadyEndpoints } from './readiness.js';
import { waitForRollout } from './wait-for-rollout.js';

const debug = createDebug('drill:k8s');

export interface AppliedObject {
  apiVersion: string;
  kind: string;
  name: string;
}

/**
 * Creates the objects in order (they already carry their namespace) and reports each as soon as
 * it exists, so teardown removes exactly what was created even when a later one fails.
 */
export async function applyObjects(api: KubeApi, objects: KubernetesObject[], created: (o: AppliedObject) => void): Promise<void> {
  for (const obj of objects) {
    try {
      await api.objects.create(obj);
    } catch (error) {
      throw new EnvironmentError(
        'MANIFEST_APPLY_FAILED',
        `could not create ${obj.kind} ${obj.metadata?.namespace}/${obj.metadata?.name}: ${apiMessage(error)}`,
        { cause: error },
      );
    }
    created({ apiVersion: obj.apiVersion!, kind: obj.kind!, name: obj.metadata!.name! });
    debug('created %s %s/%s', obj.kind, obj.metadata?.namespace, obj.metadata?.name);
  }
}

/** Waits until every Deployment has rolled out (all replicas updated and available). */
export async function waitForDeployments(
  api: KubeApi,
  namespace: string,
  names: string[],
  options: { timeoutMs: number; signal?: AbortSignal },
): Promise<void> {
  const results = await Promise.all(names.map((name) => waitForRollout(api, namespace, name, options)));
  const notDone = results.filter((r) => !r.state.done);
  if (notDone.length > 0) {
    throw new EnvironmentError(
      'SYSTEM_NOT_AVAILABLE',
      `the system under drill did not become available within ${options.timeoutMs / 1000}s: ${notDone.map((r) => r.state.message).join('; ')}. ` +
        'Check that the cluster has schedulable nodes (kubectl get nodes) and the pods\' events (kubectl describe pods -n ' + namespace + ')',
    );
  }
}

/**
 * Waits until each Service's EndpointSlices list every ready pod its selector picks: the
 * EndpointSlice controller follows pod readiness a little behind the Deployment status, and a
 * baseline started before it caught up would see a steady state that is not there.
 */
export async function waitForServiceEndpoints(
  api: KubeApi,
  namespace: string,
  services: string[],
  options: { timeoutMs: number; signal?: AbortSignal },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  for (const name of services) {
    let last = '';
    for (;;) {
      options.signal?.throwIfAborted();
      const selector = (await api.core.readNamespacedService({ name, namespace })).spec?.selector;
      if (!selector || Object.keys(selector).length === 0) break;
      const pods = (await api.core.listNamespacedPod({ namespace, labelSelector: selectorFromLabels(selector) })).items;
      const ready = pods.filter((p) => !p.metadata?.deletionTimestamp && p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
      const endpoints = new Set(await serviceReadyEndpoints(api, namespace, name));
      if (ready.every((p) => endpoints.has(p.metadata!.name!))) break;
      last = `${endpoints.size} of ${ready.length} ready pods are endpoints`;
      if (Date.now() > deadline) {
        throw new EnvironmentError('ENDPOINTS_NOT_READY', `service ${name} in ${namespace}: ${last} after ${options.timeoutMs / 1000}s; is the endpointslice controller running?`);
      }
      await sleep(100, options.signal);
    }
  }
}

/** Deletes what was applied, newest first (cascading to ReplicaSets and pods); missing objects are fine. */
export async function deleteObjects(api: KubeApi, namespace: string, objects: AppliedObject[]): Promise<void> {
  for (const o of [...objects].reverse()) {
    await api.objects
      .delete({ apiVersion: o.apiVersion, kind: o.kind, metadata: { name: o.name, namespace } }, undefined, undefined, undefined, undefined, 'Background')
      .catch((error: unknown) => {
        if (!isNotFound(error)) throw error;
      });
  }
}

export function deploymentNames(objects: KubernetesObject[]): string[] {
  return objects.filter((o): o is V1Deployment => o.kind === 'Deployment').map((o) => o.metadata!.name!);
}

export function serviceNames(objects: KubernetesObject[]): string[] {
  return objects.filter((o) => o.kind === 'Service').map((o) => o.metadata!.name!);
}
