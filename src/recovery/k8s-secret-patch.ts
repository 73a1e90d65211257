import type { DrillContext } from '../engine/drill-context.js';
import { StepFailedError } from '../engine/errors.js';
import { REDACTED, redactSecrets } from '../report/redact.js';
import type { RecoveryStep } from '../scenario/schema.js';
import { apiMessage, isNotFound, MERGE_PATCH } from '../targets/kubernetes/kube-api.js';
import { restartDeployments } from './k8s-rollout-restart.js';

type Step = Extract<RecoveryStep, { step: 'k8s-secret-patch' }>;

/**
 * Runbook "Update application connection strings": `kubectl patch secret <name> --patch
 * '{"data":{"DATABASE_URL":"<base64>"}}'`, then "Restart application pods" (rollout restart of
 * `restart`). `current-primary` is the database the application uses now (after a promotion or a
 * restore). The value goes to the apiserver only: the journal gets `[REDACTED] (<length>)` for a
 * literal, the application's URL without its password for current-primary. Postcondition: the
 * Secret decodes to the value and the restarts rolled out.
 */
export async function k8sSecretPatch(ctx: DrillContext, step: Step): Promise<Record<string, unknown>> {
  const { api, namespace } = ctx.k8s;
  await ctx.k8s.requireDrillTarget('k8s-secret-patch');
  const value = step.value === 'current-primary' ? ctx.applicationDatabaseUrl(ctx.router.connection) : step.value.value;
  // Whatever the value is, it is a secret from now on: no artifact may show it, in any form.
  ctx.recorder.secrets.register(value, `the value patched into secret ${step.secret}`);
  // What the journal, step output and errors show: a literal value never (whatever it is, not only
  // a URL's password), the current primary as the URL the pods got (the address they reach it at,
  // which in a drill network is not the harness's loopback) without the password.
  const shown =
    step.value === 'current-primary' ? ctx.applicationDatabaseUrl({ ...ctx.router.connection, password: undefined }) : `${REDACTED} (${value.length} characters)`;
  const hide = (text: string) =>
    [value, Buffer.from(value).toString('base64')].filter((v) => v.length > 0).reduce((out, v) => out.replaceAll(v, shown), redactSecrets(text));
  try {
    await api.core.patchNamespacedSecret(
      { name: step.secret, namespace, body: { data: { [step.key]: Buffer.from(value).toString('base64') } } },
      MERGE_PATCH,
    );
  } catch (error) {
    if (isNotFound(error)) throw new StepFailedError('SECRET_NOT_FOUND', `secret "${step.secret}" not found in namespace ${namespace}`);
    // The apiserver's message may quote the body: never pass it on unredacted.
    throw new StepFailedError('PATCH_REJECTED', hide(`the apiserver refused the patch of secret "${step.secret}": ${apiMessage(error)}`));
  }
  const stored = (await api.core.readNamespacedSecret({ name: step.secret, namespace })).data?.[step.key];
  if (stored === undefined || Buffer.from(stored, 'base64').toString() !== value) {
    throw new StepFailedError('PATCH_NOT_APPLIED', `secret "${step.secret}" key ${step.key} does not hold the new value (${shown}) after the patch`);
  }
  const restart = step.restart.length > 0 ? await restartDeployments(ctx, step.restart, true, step.timeout) : { restarted: [] };
  ctx.recorder.event('secret-patch', `secret ${step.secret}: ${step.key} set to ${shown}; restarted ${step.restart.join(', ') || 'nothing'}`);
  // `secretName`, not `secret`: report redaction hides any value under a key named secret.
  return { secretName: step.secret, key: step.key, value: shown, ...(step.value === 'current-primary' ? { instance: ctx.router.current.name } : {}), restarted: restart.restarted };
}
