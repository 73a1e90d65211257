import type { V1Pod } from '@kubernetes/client-node';
import type { DrillContext } from '../engine/drill-context.js';
import { StepFailedError } from '../engine/errors.js';
import type { RecoveryStep } from '../scenario/schema.js';
import { COMPROMISED_TAINT_KEY, DENY_ALL_POLICY, denyAllPresent, denyAllTraffic, releaseNode, removeDenyAll, taintCompromised } from '../targets/kubernetes/isolation.js';
import { cordonNode, evictPod } from '../targets/kubernetes/node-drain.js';

type IsolateCompromisedNodes = Extract<RecoveryStep, { step: 'isolate-compromised-nodes' }>;

/** What the drill can say of its NetworkPolicy: the local control plane's nodes (CNI bridge, kwok) enforce none; of another cluster's plugin it knows nothing. */
export const POLICY_ENFORCEMENT = {
  local: 'API state only: the local control plane\'s nodes (CNI bridge plugin, kwok) enforce no NetworkPolicy, so traffic is not actually blocked',
  other: 'not checked: whether this cluster\'s network plugin enforces NetworkPolicy is not known to the drill',
} as const;

/**
 * Runbook "Isolate affected systems" (isolate-compromised-nodes.sh): the compromised workload is the
 * pods of the drill's namespace that run as `serviceAccount` (the account whose credentials leaked),
 * or with `compromised: leaked-pods` only the pods the leaked pod-bound tokens are bound to.
 * The nodes they ran on are cordoned and tainted NoExecute (every pod without a toleration leaves
 * them, whichever namespace: hence a cluster of the drill's own), a deny-all NetworkPolicy goes on
 * the namespace, and the compromised pods are evicted (their controllers recreate them elsewhere,
 * with the credentials the runbook rotates). Teardown takes the taint off, uncordons and removes
 * the policy. Postcondition: every such node unschedulable and tainted, the policy present, and none
 * of the compromised pods left.
 */
export async function isolateCompromisedNodes(ctx: DrillContext, step: IsolateCompromisedNodes): Promise<Record<string, unknown>> {
  const { api, namespace } = ctx.k8s;
  await ctx.k8s.requireDrillTarget('isolate-compromised-nodes (cordons and taints nodes NoExecute)', 'cluster');
  const leakedPods = new Set((ctx.recorder.journal.attacker?.credentials ?? []).flatMap((c) => (c.boundPod ? [c.boundPod] : [])));
  const compromised = (p: V1Pod) => (step.compromised === 'leaked-pods' ? leakedPods.has(p.metadata?.name ?? '') : (p.spec?.serviceAccountName ?? 'default') === step.serviceAccount);
  const pods = (await api.core.listNamespacedPod({ namespace })).items.filter((p) => compromised(p) && !p.metadata?.deletionTimestamp);
  const nodes = [...new Set(pods.map((p) => p.spec?.nodeName).filter((n): n is string => typeof n === 'string'))].sort();
  if (nodes.length === 0) {
    throw new StepFailedError(
      'NOTHING_TO_ISOLATE',
      step.compromised === 'leaked-pods'
        ? `none of the pods the leaked tokens are bound to (${[...leakedPods].join(', ') || 'none leaked'}) still runs in ${namespace}: no node to isolate`
        : `no running pod of ${namespace} runs as service account ${step.serviceAccount}: no node to isolate`,
    );
  }
  for (const node of nodes) {
    ctx.teardown.push(`release node ${node} (taint ${COMPROMISED_TAINT_KEY}, cordon)`, () => releaseNode(api, node));
    await cordonNode(api, node);
    await taintCompromised(api, node, ctx.runId);
  }
  ctx.teardown.push(`remove the deny-all NetworkPolicy of ${namespace}`, () => removeDenyAll(api, namespace));
  await denyAllTraffic(api, namespace, ctx.runId);
  const enforced = ctx.k8s.provider === 'local' ? POLICY_ENFORCEMENT.local : POLICY_ENFORCEMENT.other;
  const deadline = Date.now() + step.timeout;
  const evictions = await Promise.all(pods.map((pod) => evictPod(api, pod, deadline, ctx.signal)));
  const uids = new Set(pods.map((p) => p.metadata!.uid!));
  let left: string[] = [];
  for (;;) {
    left = (await api.core.listNamespacedPod({ namespace })).items.filter((p) => uids.has(p.metadata?.uid ?? '')).map((p) => p.metadata!.name!);
    if (left.length === 0 || Date.now() > deadline - 1000) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  const problems: string[] = [];
  for (const node of nodes) {
    const spec = (await api.core.readNode({ name: node })).spec;
    if (spec?.unschedulable !== true) problems.push(`node ${node} is schedulable`);
    if (!(spec?.taints ?? []).some((t) => t.key === COMPROMISED_TAINT_KEY && t.effect === 'NoExecute')) problems.push(`node ${node} lacks the NoExecute taint`);
  }
  if (!(await denyAllPresent(api, namespace))) problems.push('the deny-all NetworkPolicy is missing');
  if (left.length > 0) problems.push(`compromised pods still present: ${left.join(', ')}`);
  if (problems.length > 0) throw new StepFailedError('ISOLATION_INCOMPLETE', `isolate-compromised-nodes in ${namespace}: ${problems.join('; ')}`);
  ctx.recorder.event(
    'nodes-isolated',
    `node(s) ${nodes.join(', ')} cordoned and tainted ${COMPROMISED_TAINT_KEY}:NoExecute, ${pods.length} compromised pod(s) evicted, deny-all NetworkPolicy on ${namespace} (${enforced})`,
  );
  return { nodes, evicted: evictions, networkPolicy: { name: DENY_ALL_POLICY, enforced }, ...(step.compromised === 'leaked-pods' ? { leakedPods: [...leakedPods] } : { serviceAccount: step.serviceAccount }) };
}
