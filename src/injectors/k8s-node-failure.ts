import createDebug from 'debug';
import type { DrillContext, FaultHandle } from '../engine/drill-context.js';
import { sleep, type Clock } from '../engine/clock.js';
import { EnvironmentError, InputError } from '../engine/errors.js';
import type { Fault } from '../scenario/schema.js';
import { isNotFound, type KubeApi } from '../targets/kubernetes/kube-api.js';
import { busiestNode } from '../targets/kubernetes/pod-choice.js';

const debug = createDebug('drill:inject');

/** Well past the node monitor grace period (40 s on the local control plane, 50 s by default). */
const NOT_READY_TIMEOUT_MS = 180_000;

type NodeFailure = Extract<Fault, { type: 'k8s-node-failure' }>;

/**
 * A node is lost. `not-ready`: its agent (the kubelet of a real node, whose containers keep
 * running; kwok on a fake node) is killed, so the node stops heartbeating; the control plane marks it NotReady after its grace period and evicts
 * its pods once their tolerations run out, as on a real cluster. `delete`: the Node object is
 * deleted and its pods with it (what a cloud provider's node termination ends in).
 *
 * In effect (T_fault) for `not-ready` when the control plane marks the node NotReady, not when the
 * agent dies: until then the pods on it still count as ready endpoints, so no probe
 * could see the outage. The instant reported is the last read that still found the node Ready
 * (it turned NotReady after that), polled every 250 ms. The time from the kill to NotReady (the
 * node monitor grace period) is in the fault's details. `delete`: T_fault is when the agent is killed.
 */
export async function injectNodeFailure(ctx: DrillContext, fault: NodeFailure): Promise<FaultHandle> {
  const k8s = ctx.k8s;
  const { api, namespace } = k8s;
  await k8s.requireDrillTarget('k8s-node-failure', 'cluster');
  const node = await pickNode(api, namespace, fault.node);
  const podsOnNode = (await api.core.listNamespacedPod({ namespace, fieldSelector: `spec.nodeName=${node}` })).items.map((p) => p.metadata!.name!);
  // Only a cluster whose nodes' agents the harness runs (local) can lose a kubelet on request.
  const agents = k8s.cluster.nodeAgents;
  let notReadyAfterMs: number | undefined;
  let inEffectAt: number;
  if (fault.mode === 'not-ready') {
    if (!agents) {
      throw new InputError(
        'NODE_FAILURE_UNSUPPORTED',
        `k8s-node-failure mode not-ready stops the node's kubelet, which the drill can do only on its local control plane (provider: local); on a ${k8s.provider} cluster use mode: delete`,
      );
    }
    const killedAt = ctx.clock.now();
    await agents.stop(node, 'kill');
    const seen = await waitForNotReady(api, node, ctx.clock, ctx.signal);
    inEffectAt = seen.lastReadyAt ?? killedAt;
    notReadyAfterMs = seen.notReadyAt - killedAt;
    debug('node %s NotReady %d ms after its agent was killed', node, notReadyAfterMs);
  } else {
    inEffectAt = ctx.clock.now();
    await agents?.stop(node, 'kill');
    await api.core.deleteNode({ name: node });
    // The pod garbage collector would remove them after its 40 s quarantine; a terminated machine's pods are gone at once.
    for (const name of podsOnNode) {
      await api.core.deleteNamespacedPod({ name, namespace, gracePeriodSeconds: 0 }).catch((error: unknown) => {
        if (!isNotFound(error)) throw error;
      });
    }
  }
  k8s.failedNodes.push(node);
  debug('node %s failed (%s), %d drill pods on it', node, fault.mode, podsOnNode.length);
  return {
    description: `node ${node} ${fault.mode === 'delete' ? 'deleted' : 'stopped (NotReady)'} with ${podsOnNode.length} pod(s) of ${namespace}`,
    details: { node, mode: fault.mode, podsOnNode, ...(notReadyAfterMs !== undefined ? { notReadyAfterMs } : {}) },
    inEffectAt,
    // The agent comes back if the node still exists (a recovery step may have deleted or replaced it).
    async [Symbol.asyncDispose]() {
      if (!agents || fault.mode === 'delete') return;
      const exists = await api.core.readNode({ name: node }).then(
        () => true,
        (error: unknown) => (isNotFound(error) ? false : Promise.reject(error)),
      );
      if (exists) await agents.start(node, { waitReady: false });
    },
  };
}

async function pickNode(api: KubeApi, namespace: string, wanted: string): Promise<string> {
  if (wanted === 'busiest') {
    const node = busiestNode((await api.core.listNamespacedPod({ namespace })).items);
    if (!node) throw new InputError('NO_NODE', `k8s-node-failure: no running pod in namespace ${namespace} is bound to a node, so there is no busiest node`);
    return node;
  }
  const exists = await api.core.readNode({ name: wanted }).then(
    () => true,
    (error: unknown) => (isNotFound(error) ? false : Promise.reject(error)),
  );
  if (!exists) {
    const names = (await api.core.listNode()).items.map((n) => n.metadata?.name).join(', ');
    throw new InputError('UNKNOWN_NODE', `k8s-node-failure: there is no node "${wanted}" (nodes: ${names})`);
  }
  return wanted;
}

/**
 * Waits until the node lifecycle controller has marked the node NotReady (its grace period, plus a
 * check interval). Returns when that was seen and, as a lower bound of when it happened, the start
 * of the last read that still found the node Ready.
 */
async function waitForNotReady(api: KubeApi, node: string, clock: Clock, signal: AbortSignal): Promise<{ notReadyAt: number; lastReadyAt?: number }> {
  const started = clock.now();
  let lastReadyAt: number | undefined;
  for (;;) {
    const readAt = clock.now();
    const n = await api.core.readNode({ name: node });
    if (n.status?.conditions?.find((c) => c.type === 'Ready')?.status !== 'True') return { notReadyAt: clock.now(), ...(lastReadyAt !== undefined ? { lastReadyAt } : {}) };
    lastReadyAt = readAt;
    if (clock.now() - started > NOT_READY_TIMEOUT_MS) {
      throw new EnvironmentError('NODE_STILL_READY', `node ${node} still Ready ${NOT_READY_TIMEOUT_MS / 1000}s after its agent was killed; is the node lifecycle controller running?`);
    }
    await sleep(250, signal);
  }
}
