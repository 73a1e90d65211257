import type { V1Pod } from '@kubernetes/client-node';
import type { DrillContext } from '../engine/drill-context.js';
import type { RecoveryStep } from '../scenario/schema.js';
import { rolloutHistory } from '../targets/kubernetes/rollout-history.js';
import { rolloutState } from '../targets/kubernetes/rollout-state.js';

type Step = Extract<RecoveryStep, { step: 'k8s-incident-assessment' }>;

/** What `kubectl get pods | grep -v Running` shows for a pod that is not running and ready. */
function podProblem(pod: V1Pod): Record<string, unknown> | undefined {
  const ready = pod.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
  const phase = pod.status?.phase ?? 'Unknown';
  if (phase === 'Running' && ready && !pod.metadata?.deletionTimestamp) return undefined;
  const waiting = pod.status?.containerStatuses?.find((c) => c.state?.waiting)?.state?.waiting;
  return {
    name: pod.metadata?.name,
    phase,
    ready,
    ...(pod.metadata?.deletionTimestamp ? { terminating: true } : {}),
    ...(waiting?.reason ? { reason: waiting.reason } : {}),
    restarts: (pod.status?.containerStatuses ?? []).reduce((n, c) => n + (c.restartCount ?? 0), 0),
    node: pod.spec?.nodeName,
  };
}

/**
 * Runbook "Incident Assessment": the pods that are not running and ready, each Deployment's
 * rollout history (`kubectl rollout history`) and rollout state, the nodes, and the runbook's
 * decision-matrix reading (all services down / partial outage). It observes; postcondition: all
 * of it could be read.
 */
export async function k8sIncidentAssessment(ctx: DrillContext, step: Step): Promise<Record<string, unknown>> {
  const { api, namespace, cluster } = ctx.k8s;
  const [pods, deploymentList, replicaSets, nodes] = await Promise.all([
    api.core.listNamespacedPod({ namespace }),
    api.apps.listNamespacedDeployment({ namespace }),
    api.apps.listNamespacedReplicaSet({ namespace }),
    cluster.nodes(),
  ]);
  const wanted = step.deployments ?? deploymentList.items.map((d) => d.metadata!.name!);
  const deployments = wanted.map((name) => {
    const d = deploymentList.items.find((x) => x.metadata?.name === name);
    if (!d) return { name, missing: true };
    const history = rolloutHistory(d, replicaSets.items);
    return {
      name,
      desired: d.spec?.replicas ?? 1,
      available: d.status?.availableReplicas ?? 0,
      rollout: rolloutState(d).message,
      history: history.map((r) => ({ revision: r.revision, changeCause: r.changeCause ?? null, images: r.images, ready: `${r.readyReplicas}/${r.replicas}` })),
    };
  });
  const notRunning = pods.items.map(podProblem).filter((p) => p !== undefined);
  const present = deployments.filter((d): d is Extract<typeof d, { desired: number }> => 'desired' in d);
  const down = present.filter((d) => d.desired > 0 && d.available === 0).map((d) => d.name);
  const degraded = present.filter((d) => d.available < d.desired).map((d) => d.name);
  // The runbook's decision matrix.
  const impact = present.length > 0 && down.length === present.length ? 'all services down' : degraded.length > 0 ? 'partial outage' : 'no outage seen';
  ctx.recorder.event(
    'incident-assessment',
    `${impact}: ${notRunning.length} of ${pods.items.length} pods not running and ready; degraded: ${degraded.join(', ') || 'none'}`,
    { notRunning: notRunning.map((p) => p.name) },
  );
  return {
    namespace,
    impact,
    pods: pods.items.length,
    notRunning,
    degraded,
    down,
    deployments,
    nodes: nodes.map((n) => ({ name: n.name, ready: n.ready, unschedulable: n.unschedulable })),
  };
}
