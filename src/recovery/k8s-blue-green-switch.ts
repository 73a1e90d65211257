import { sleep } from '../engine/clock.js';
import type { DrillContext } from '../engine/drill-context.js';
import { StepFailedError } from '../engine/errors.js';
import type { RecoveryStep } from '../scenario/schema.js';
import { apiMessage, isNotFound, MERGE_PATCH } from '../targets/kubernetes/kube-api.js';
import { selectorFromLabels } from '../targets/kubernetes/label-selector.js';
import { serviceReadyEndpoints } from '../targets/kubernetes/readiness.js';
import { waitBudgetMs } from '../engine/step-wait-budget.js';

type Step = Extract<RecoveryStep, { step: 'k8s-blue-green-switch' }>;

/**
 * Runbook "Blue-Green Instant Switch": `kubectl patch service <svc> -p
 * '{"spec":{"selector":{"version":"green"}}}'`, then "Verify traffic switch". Postcondition: the
 * Service's selector says the new colour, and its ready endpoints (EndpointSlices) are all pods
 * of that colour, at least one of them; there is no switch to a colour with nothing running.
 */
export async function k8sBlueGreenSwitch(ctx: DrillContext, step: Step): Promise<Record<string, unknown>> {
  const { api, namespace } = ctx.k8s;
  await ctx.k8s.requireDrillTarget('k8s-blue-green-switch');
  const service = await api.core.readNamespacedService({ name: step.service, namespace }).catch((error: unknown) => {
    if (isNotFound(error)) throw new StepFailedError('SERVICE_NOT_FOUND', `service "${step.service}" not found in namespace ${namespace}`);
    throw error;
  });
  const before = service.spec?.selector ?? {};
  try {
    await api.core.patchNamespacedService({ name: step.service, namespace, body: { spec: { selector: { [step.label]: step.to } } } }, MERGE_PATCH);
  } catch (error) {
    throw new StepFailedError('SWITCH_REJECTED', `the apiserver refused the selector patch of service "${step.service}": ${apiMessage(error)}`, { cause: error });
  }
  const after = (await api.core.readNamespacedService({ name: step.service, namespace })).spec?.selector ?? {};
  if (after[step.label] !== step.to) {
    throw new StepFailedError('SWITCH_NOT_APPLIED', `service "${step.service}" selects ${selectorFromLabels(after)} after the patch, not ${step.label}=${step.to}`);
  }

  // The EndpointSlice controller follows the selector change asynchronously.
  const colour = new Set((await api.core.listNamespacedPod({ namespace, labelSelector: selectorFromLabels(after) })).items.map((p) => p.metadata!.name!));
  const started = Date.now();
  const deadline = started + waitBudgetMs(step.timeout);
  let ready: string[] = [];
  for (;;) {
    ready = await serviceReadyEndpoints(api, namespace, step.service);
    const others = ready.filter((name) => !colour.has(name));
    if (ready.length > 0 && others.length === 0) break;
    if (Date.now() > deadline) {
      throw new StepFailedError(
        'SWITCH_NOT_EFFECTIVE',
        `service "${step.service}" selects ${step.label}=${step.to}, but its ready endpoints are ` +
          (ready.length === 0 ? 'none: no pod of that colour is ready' : `${ready.join(', ')}, of which ${others.join(', ')} are not ${step.to}`),
      );
    }
    await sleep(100, ctx.signal);
    // Pods of the new colour may be (re)created meanwhile.
    for (const p of (await api.core.listNamespacedPod({ namespace, labelSelector: selectorFromLabels(after) })).items) colour.add(p.metadata!.name!);
  }
  ctx.recorder.event('blue-green-switch', `service ${step.service}: ${selectorFromLabels(before)} -> ${selectorFromLabels(after)}; ${ready.length} ready endpoints, all ${step.to}`);
  return {
    service: step.service,
    selectorBefore: before,
    selectorAfter: after,
    readyEndpoints: ready,
    endpointsSwitchedAfterMs: Date.now() - started,
  };
}
