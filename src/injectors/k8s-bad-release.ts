import type { V1Deployment, V1PodTemplateSpec } from '@kubernetes/client-node';
import createDebug from 'debug';
import { sleep } from '../engine/clock.js';
import type { DrillContext, FaultHandle } from '../engine/drill-context.js';
import { EnvironmentError, InputError } from '../engine/errors.js';
import type { Fault } from '../scenario/schema.js';
import { isNotFound, JSON_PATCH, STRATEGIC_MERGE_PATCH, type KubeApi } from '../targets/kubernetes/kube-api.js';
import { CHANGE_CAUSE_ANNOTATION, sameTemplate, withoutTemplateHash } from '../targets/kubernetes/rollout-history.js';

const debug = createDebug('drill:inject');

/**
 * Pods with this label never become ready on fake (kwok) nodes (stage drill-pod-broken in
 * kwok-stages.yaml), which run nothing. On real nodes it has no effect: the release's own image
 * (its version's behaviour in TrustStram's release catalogue) is what breaks.
 */
export const BROKEN_LABEL = 'drill.dev/broken';
const VERSION_LABEL = 'app.kubernetes.io/version';
const PICKED_UP_TIMEOUT_MS = 30_000;

type BadRelease = Extract<Fault, { type: 'k8s-bad-release' }>;

/** `repo/name:tag` or `repo/name@sha256:…` with its tag replaced: the image of another release of the same service. */
export function releaseImage(image: string, tag: string): string {
  const withoutDigest = image.split('@')[0]!;
  const slash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.lastIndexOf(':');
  const repo = colon > slash ? withoutDigest.slice(0, colon) : withoutDigest;
  return `${repo}:${tag}`;
}

/**
 * The strategic merge patch `kubectl set image` plus a label and change-cause would send; with
 * `readinessPath`, the release also ships a readiness probe on another path (a readiness check
 * that does not check what the health check checks).
 */
export function badReleasePatch(d: V1Deployment, version: string, image: string | undefined, readinessPath?: string): Record<string, unknown> {
  const containers = (d.spec?.template.spec?.containers ?? []).map((c) => ({
    name: c.name,
    image: image ?? releaseImage(c.image ?? '', version),
    ...(readinessPath && c.readinessProbe?.httpGet ? { readinessProbe: { httpGet: { ...c.readinessProbe.httpGet, path: readinessPath } } } : {}),
  }));
  return {
    metadata: { annotations: { [CHANGE_CAUSE_ANNOTATION]: `TrustStram ${version}` } },
    spec: { template: { metadata: { labels: { [BROKEN_LABEL]: 'true', [VERSION_LABEL]: version } }, spec: { containers } } },
  };
}

interface Released {
  name: string;
  before: V1PodTemplateSpec;
  after: V1PodTemplateSpec;
  images: string[];
}

/**
 * A new release that breaks: each Deployment gets a new revision (the release's image,
 * change-cause; pods labelled drill.dev/broken=true for fake nodes) whose pods fail the way that
 * release fails (TrustStram 4.4.1 crash-loops, 4.4.2 never passes readiness, ...). The rolling
 * update takes old pods away as far as maxUnavailable allows and never finishes. T_fault is when
 * the first Deployment was patched; the handle is returned once the Deployment controller has
 * created the new revision's first pod of each.
 */
export async function injectBadRelease(ctx: DrillContext, fault: BadRelease): Promise<FaultHandle> {
  const { api, namespace } = ctx.k8s;
  await ctx.k8s.requireDrillTarget('k8s-bad-release');
  const released: Released[] = [];
  // The pre-fault template comes back unless recovery already moved the Deployment off the bad one.
  const revert = async () => {
    for (const r of released) {
      const current = await api.apps.readNamespacedDeployment({ name: r.name, namespace }).catch((error: unknown) => {
        if (isNotFound(error)) return undefined;
        throw error;
      });
      if (!current || !sameTemplate(current.spec?.template, r.after)) continue;
      await api.apps.patchNamespacedDeployment({ name: r.name, namespace, body: [{ op: 'replace', path: '/spec/template', value: r.before }] }, JSON_PATCH);
    }
  };
  // The rollout can take old pods away as soon as the first Deployment is patched.
  let releasedAt: number | undefined;
  try {
    for (const name of fault.deployments) {
      const d = await readDeployment(api, namespace, name);
      releasedAt ??= ctx.clock.now();
      const patched = await api.apps.patchNamespacedDeployment({ name, namespace, body: badReleasePatch(d, fault.version, fault.image, fault.readinessPath) }, STRATEGIC_MERGE_PATCH);
      released.push({
        name,
        before: withoutTemplateHash(d.spec!.template),
        after: patched.spec!.template,
        images: (patched.spec!.template.spec?.containers ?? []).map((c) => c.image ?? ''),
      });
    }
    for (const r of released) await waitForNewRevision(api, namespace, r.name, ctx.signal);
  } catch (error) {
    // No handle is returned: undo the deployments already released before passing the error on.
    await revert().catch((e: unknown) => debug('reverting the partial bad release: %s', String(e)));
    throw error;
  }
  debug('released %s to %s', fault.version, fault.deployments.join(', '));
  return {
    description: `bad release ${fault.version} of ${fault.deployments.join(', ')}`,
    details: { version: fault.version, deployments: released.map(({ name, images }) => ({ name, images })) },
    inEffectAt: releasedAt!,
    async [Symbol.asyncDispose]() {
      await revert();
    },
  };
}

async function readDeployment(api: KubeApi, namespace: string, name: string): Promise<V1Deployment> {
  try {
    return await api.apps.readNamespacedDeployment({ name, namespace });
  } catch (error) {
    if (isNotFound(error)) throw new InputError('DEPLOYMENT_NOT_FOUND', `k8s-bad-release: no deployment ${name} in namespace ${namespace}`);
    throw error;
  }
}

/** The controller has seen the new template and created a pod of the new revision. */
async function waitForNewRevision(api: KubeApi, namespace: string, name: string, signal: AbortSignal): Promise<void> {
  const deadline = Date.now() + PICKED_UP_TIMEOUT_MS;
  for (;;) {
    const d = await api.apps.readNamespacedDeployment({ name, namespace });
    if ((d.status?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0) && (d.status?.updatedReplicas ?? 0) > 0) return;
    if (Date.now() > deadline) {
      throw new EnvironmentError('RELEASE_NOT_PICKED_UP', `the deployment controller did not start the new revision of ${name} within ${PICKED_UP_TIMEOUT_MS / 1000}s; is kube-controller-manager running?`);
    }
    await sleep(100, signal);
  }
}
