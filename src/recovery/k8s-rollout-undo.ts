import type { DrillContext } from '../engine/drill-context.js';
import { StepFailedError } from '../engine/errors.js';
import type { RecoveryStep } from '../scenario/schema.js';
import { apiMessage, isNotFound, JSON_PATCH, type KubeApi } from '../targets/kubernetes/kube-api.js';
import { chooseRollback, rollbackPatch, rolloutHistory, sameTemplate } from '../targets/kubernetes/rollout-history.js';

type Step = Extract<RecoveryStep, { step: 'k8s-rollout-undo' }>;

/**
 * Runbook "Kubernetes Rolling Rollback": `kubectl rollout undo deployment/<name> [--to-revision]`
 * for each Deployment in order, done as kubectl does it: the ReplicaSet carrying the chosen
 * revision holds its pod template, which is copied back into the Deployment (the controller then
 * rolls to it and renumbers it as the newest revision). Postcondition: each Deployment's template
 * is the chosen revision's. Whether the rollback makes the service healthy is for
 * k8s-rollout-status and the probes to say.
 */
export async function k8sRolloutUndo(ctx: DrillContext, step: Step): Promise<Record<string, unknown>> {
  const { api, namespace } = ctx.k8s;
  await ctx.k8s.requireDrillTarget('k8s-rollout-undo');
  const results = [];
  for (const name of step.deployments) results.push(await undoOne(api, namespace, name, step.toRevision));
  ctx.recorder.event(
    'rollout-undo',
    results.map((r) => (r.skipped ? `${r.deployment}: ${r.skipped}` : `${r.deployment}: revision ${r.from} -> ${r.to}`)).join('; '),
  );
  return { namespace, deployments: results };
}

async function undoOne(api: KubeApi, namespace: string, name: string, toRevision: number | undefined) {
  const deployment = await api.apps.readNamespacedDeployment({ name, namespace }).catch((error: unknown) => {
    if (isNotFound(error)) throw new StepFailedError('DEPLOYMENT_NOT_FOUND', `deployment "${name}" not found in namespace ${namespace}`);
    throw error;
  });
  if (deployment.spec?.paused) {
    throw new StepFailedError('DEPLOYMENT_PAUSED', `you cannot rollback a paused deployment; resume it first (kubectl rollout resume deployment/${name})`);
  }
  const replicaSets = await api.apps.listNamespacedReplicaSet({ namespace });
  const history = rolloutHistory(deployment, replicaSets.items);
  const choice = chooseRollback(deployment, history, toRevision);
  if (choice.kind === 'no-history') throw new StepFailedError('NO_ROLLOUT_HISTORY', choice.message);
  if (choice.kind === 'already-there') {
    return { deployment: name, skipped: `skipped rollback (current template already matches revision ${choice.revision.revision})`, images: choice.revision.images };
  }
  try {
    await api.apps.patchNamespacedDeployment({ name, namespace, body: rollbackPatch(deployment, choice.to) }, JSON_PATCH);
  } catch (error) {
    throw new StepFailedError('ROLLBACK_REJECTED', `the apiserver refused the rollback of deployment "${name}": ${apiMessage(error)}`, { cause: error });
  }
  const after = await api.apps.readNamespacedDeployment({ name, namespace });
  if (!sameTemplate(after.spec?.template, choice.to.template)) {
    throw new StepFailedError('ROLLBACK_NOT_APPLIED', `deployment "${name}" does not carry revision ${choice.to.revision}'s template after the rollback (changed concurrently?)`);
  }
  return {
    deployment: name,
    from: choice.from,
    to: choice.to.revision,
    changeCause: choice.to.changeCause ?? null,
    images: choice.to.images,
  };
}
