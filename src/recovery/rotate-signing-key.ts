import { sleep } from '../engine/clock.js';
import type { DrillContext } from '../engine/drill-context.js';
import { EnvironmentError, StepFailedError } from '../engine/errors.js';
import type { SigningKeyRotation, SigningKeyRotationOptions, SigningKeyRotationPhase } from '../targets/kubernetes/types.js';
import { issueUnboundToken } from '../targets/kubernetes/service-account-tokens.js';
import { kubeApiTargetOf, KubeApiTokenUse } from '../workload/attacks/kube-api-token-use.js';
import type { UseOutcome } from '../workload/attacks/credential-use.js';

/** The account the step's own probe tokens are issued for: every namespace has it. */
const PROBE_ACCOUNT = 'default';
/** After the restart the old token must be refused within this (the token cache died with the old process). */
const OLD_TOKEN_REFUSAL_LIMIT_MS = 15_000;

export interface SigningKeyRotationOutput extends SigningKeyRotation {
  /** A token issued just before the rotation (after the accounts were recreated): refused after it. */
  tokenIssuedBefore: { before: string; after: string; firstRefusalAfterReadyMs: number; allowedAfterReady: number };
  /** A token requested after the rotation: allowed, as its account. */
  freshTokenUse: string;
}

const WHAT: Record<SigningKeyRotationPhase, string> = {
  'apiserver-stopping': 'kube-apiserver stopping (SIGTERM) for the new service-account signing key: the API is unreachable until it is ready again',
  'apiserver-stopped': 'kube-apiserver stopped; starting it with the new key as its only service-account verification key',
  'apiserver-ready': 'kube-apiserver ready (/readyz) with the new service-account key',
  'controller-manager-ready': 'kube-controller-manager restarted with the new service-account signing key',
};

/**
 * Throws (exit 3, nothing touched) unless the drill's cluster is a control plane this drill started
 * itself (LocalControlPlane: the only cluster with the capability). A running local cluster named
 * by DRILL_KUBECONFIG (e.g. the test suite's shared one, or `drill cluster up`) is someone's: other
 * drills use its apiserver, which a restart would cut off and whose tokens it would void.
 */
export function requireOwnControlPlane(ctx: DrillContext): (options: SigningKeyRotationOptions) => Promise<SigningKeyRotation> {
  const cluster = ctx.has('k8s') ? ctx.k8s.cluster : undefined;
  const rotate = cluster?.rotateServiceAccountSigningKey?.bind(cluster);
  if (!cluster || !rotate || cluster.kind !== 'local' || ctx.k8s.provider !== 'local') {
    const why = cluster
      ? `cluster "${cluster.name}" (${cluster.kind}, provider ${ctx.k8s.provider}) was not started by this drill, and restarting its kube-apiserver with a new key would cut off everyone else using it`
      : 'the drill has no Kubernetes target whose signing key it could rotate';
    throw new EnvironmentError(
      'SIGNING_KEY_NOT_OURS',
      `revoke-all-tokens rotateSigningKey: ${why}. ` +
        'Run the scenario on a control plane of its own (targets.kubernetes.provider: local, without DRILL_KUBECONFIG). Nothing was touched.',
    );
  }
  return rotate;
}

/**
 * "For all": the service-account signing key of the drill's own control plane rotated (see
 * LocalControlPlane.rotateServiceAccountSigningKey), so every service-account token it issued is
 * refused, whatever object it is bound to and whichever account it names. Each restart is a journal
 * event (the apiserver's outage is the time between "stopping" and "ready"). Postcondition, with
 * tokens of its own: one issued just before the rotation is refused (401) after it, at once (the
 * apiserver's ~10 s token cache does not survive the restart: measured as firstRefusalAfterReadyMs),
 * and one requested after it works. Pods keep the projected token the kubelet last wrote until the
 * kubelet refreshes it (at 80 % of its lifetime) or the pod restarts: this step does not wait for that.
 */
export async function rotateSigningKey(ctx: DrillContext): Promise<SigningKeyRotationOutput> {
  const rotate = requireOwnControlPlane(ctx);
  const { api, namespace } = ctx.k8s;
  const target = kubeApiTargetOf(api.kc, namespace, PROBE_ACCOUNT);
  const before = await probeToken(ctx, 'issued before the signing-key rotation');
  const check = (token: string) => new KubeApiTokenUse(target, token, 5_000).use(ctx.signal);
  const initially = await check(before);
  if (initially.outcome !== 'allowed') throw new StepFailedError('PROBE_TOKEN_REFUSED', `a token just issued for ${namespace}/${PROBE_ACCOUNT} was not accepted before the rotation (${describe(initially)}); see the kube-apiserver log`);

  // Measured from the apiserver's readiness, on the drill's monotonic clock (the controller
  // manager restarts after it, and that time is not the old token's).
  let ready: number | undefined;
  const rotation = await rotate({
    signal: ctx.signal,
    onPhase: (phase) => {
      if (phase === 'apiserver-ready') ready = ctx.clock.now();
      ctx.recorder.event(`signing-key-${phase}`, WHAT[phase]);
    },
  });
  ready ??= ctx.clock.now();
  const since = (t: number) => ctx.clock.now() - t;
  let allowedAfterReady = 0;
  let after: UseOutcome;
  for (;;) {
    after = await check(before);
    if (after.outcome === 'rejected') break;
    if (after.outcome === 'allowed') allowedAfterReady++;
    if (since(ready) > OLD_TOKEN_REFUSAL_LIMIT_MS) {
      throw new StepFailedError(
        'OLD_TOKEN_STILL_VALID',
        `a service-account token issued before the signing-key rotation is still ${after.outcome === 'allowed' ? 'accepted' : `not refused (${describe(after)})`} ${OLD_TOKEN_REFUSAL_LIMIT_MS / 1000}s after kube-apiserver came back with the new key`,
      );
    }
    await sleep(200, ctx.signal);
  }
  const firstRefusalAfterReadyMs = since(ready);
  const fresh = await check(await probeToken(ctx, 'requested after the signing-key rotation'));
  if (fresh.outcome !== 'allowed') throw new StepFailedError('NEW_TOKEN_REFUSED', `a service-account token requested after the signing-key rotation is not accepted (${describe(fresh)}): the apiserver signs with a key it does not verify with; see its log`);
  return {
    ...rotation,
    tokenIssuedBefore: { before: describe(initially), after: describe(after), firstRefusalAfterReadyMs, allowedAfterReady },
    freshTokenUse: describe(fresh),
  };
}

/** A 10-minute token of the probe account (TokenRequest's shortest), registered as a secret of the run. */
async function probeToken(ctx: DrillContext, what: string): Promise<string> {
  const { api, namespace } = ctx.k8s;
  const register = (token: string) => ctx.recorder.secrets.register(token, `the revoke step's probe token of ${namespace}/${PROBE_ACCOUNT}, ${what}`);
  return (await issueUnboundToken(api, namespace, PROBE_ACCOUNT, register, 600)).value;
}

function describe(use: UseOutcome): string {
  return `${use.outcome}${use.status ? ` (HTTP ${use.status})` : ''}${use.error ? `: ${use.error}` : ''}`;
}
