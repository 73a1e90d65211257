import createDebug from 'debug';
import { sleep } from '../engine/clock.js';
import type { DrillContext, FaultHandle } from '../engine/drill-context.js';
import { EnvironmentError, InputError } from '../engine/errors.js';
import type { Fault } from '../scenario/schema.js';
import { isNotFound } from '../targets/kubernetes/kube-api.js';
import { choosePods, isLive } from '../targets/kubernetes/pod-choice.js';

const debug = createDebug('drill:inject');

/** kwok (or a kubelet) confirms a zero-grace deletion within a second; this bounds a stuck one. */
const GONE_TIMEOUT_MS = 30_000;

type PodKill = Extract<Fault, { type: 'k8s-pod-kill' }>;

/**
 * Pods die (a crash or an OOM kill, not a graceful stop): deleted with grace period 0. Their
 * controller creates replacements. T_fault is when the deletions were sent (the pods stop serving
 * from then on); the handle is returned once the chosen pods no longer exist.
 */
export async function injectPodKill(ctx: DrillContext, fault: PodKill): Promise<FaultHandle> {
  const { api, namespace } = ctx.k8s;
  await ctx.k8s.requireDrillTarget('k8s-pod-kill');
  const pods = (await api.core.listNamespacedPod({ namespace, labelSelector: fault.selector })).items;
  const victims = choosePods(pods, fault.kill);
  if (victims.length === 0) {
    throw new InputError(
      'NO_PODS_MATCH',
      `k8s-pod-kill: selector "${fault.selector}" matches no running pod in namespace ${namespace} ` +
        `(${pods.length} pod(s) match, none running); check the selector against kubectl get pods -n ${namespace} --show-labels`,
    );
  }
  const killed = victims.map((p) => ({ name: p.metadata!.name!, uid: p.metadata!.uid!, node: p.spec?.nodeName }));
  // A pod stops counting as a ready endpoint once its deletion is processed, after this instant.
  const deletingAt = ctx.clock.now();
  for (const pod of killed) {
    await api.core.deleteNamespacedPod({ name: pod.name, namespace, gracePeriodSeconds: 0 }).catch((error: unknown) => {
      if (!isNotFound(error)) throw error;
    });
  }
  const deadline = Date.now() + GONE_TIMEOUT_MS;
  for (;;) {
    const left = (await api.core.listNamespacedPod({ namespace, labelSelector: fault.selector })).items.filter((p) =>
      killed.some((k) => k.uid === p.metadata?.uid),
    );
    if (left.length === 0) break;
    if (Date.now() > deadline) {
      throw new EnvironmentError('PODS_NOT_GONE', `pods ${left.map((p) => p.metadata?.name).join(', ')} still exist ${GONE_TIMEOUT_MS / 1000}s after deletion with grace period 0; is the node agent (kwok/kubelet) running?`);
    }
    await sleep(50, ctx.signal);
  }
  debug('killed %d of %d pods matching %s', killed.length, pods.filter(isLive).length, fault.selector);
  return {
    description: `killed ${killed.length} pod(s) matching ${fault.selector}: ${killed.map((k) => k.name).join(', ')}`,
    details: { selector: fault.selector, kill: fault.kill, matching: pods.filter(isLive).length, killed: killed.map(({ name, node }) => ({ name, node })) },
    inEffectAt: deletingAt,
    // Nothing to undo: the pods' controller replaces them; that is what the drill measures.
    async [Symbol.asyncDispose]() {},
  };
}
