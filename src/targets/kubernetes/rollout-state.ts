import type { V1Deployment } from '@kubernetes/client-node';

/**
 * One reading of `kubectl rollout status deployment/<name>`: kubectl's DeploymentStatusViewer,
 * as a pure function of the Deployment, so the wait and the provisioning share one definition
 * of "rolled out".
 */
export type RolloutState =
  | { done: true; message: string }
  | { done: false; failed: boolean; message: string };

export function rolloutState(d: V1Deployment): RolloutState {
  const name = d.metadata?.name ?? '?';
  const generation = d.metadata?.generation ?? 0;
  const status = d.status ?? {};
  if (generation > (status.observedGeneration ?? 0)) {
    return { done: false, failed: false, message: `waiting for deployment "${name}" spec update to be observed` };
  }
  const progressing = status.conditions?.find((c) => c.type === 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded') {
    return { done: false, failed: true, message: `deployment "${name}" exceeded its progress deadline` };
  }
  const desired = d.spec?.replicas ?? 1;
  const updated = status.updatedReplicas ?? 0;
  const replicas = status.replicas ?? 0;
  const available = status.availableReplicas ?? 0;
  if (updated < desired) {
    return { done: false, failed: false, message: `waiting for deployment "${name}" rollout to finish: ${updated} out of ${desired} new replicas have been updated` };
  }
  if (replicas > updated) {
    return { done: false, failed: false, message: `waiting for deployment "${name}" rollout to finish: ${replicas - updated} old replicas are pending termination` };
  }
  if (available < updated) {
    return { done: false, failed: false, message: `waiting for deployment "${name}" rollout to finish: ${available} of ${updated} updated replicas are available` };
  }
  return { done: true, message: `deployment "${name}" successfully rolled out` };
}
