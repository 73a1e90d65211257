import type { DrillContext } from '../engine/drill-context.js';
import { StepFailedError } from '../engine/errors.js';
import type { RecoveryStep } from '../scenario/schema.js';
import { apiMessage } from '../targets/kubernetes/kube-api.js';
import { accessChanges, accessOf, clientWithToken, grantEmergencyAccess, issueResponderToken, revokeEmergencyAccess, type AccessCheck, type Identity } from '../targets/kubernetes/emergency-access.js';

type EnableEmergencyAccess = Extract<RecoveryStep, { step: 'enable-emergency-access' }>;

/** What an incident responder needs in the namespace, and what an ordinary identity must not get from the grant. */
export const EMERGENCY_CHECKS: readonly AccessCheck[] = [
  { verb: 'list', resource: 'pods' },
  { verb: 'get', resource: 'pods', subresource: 'log' },
  { verb: 'list', resource: 'secrets' },
  { verb: 'delete', resource: 'pods' },
  { verb: 'patch', resource: 'deployments', group: 'apps' },
  { verb: 'create', resource: 'pods', subresource: 'eviction' },
];

/**
 * Runbook "Enable emergency access controls" (enable-emergency-access.sh): break-glass access for the
 * incident responder, time-limited and audited. A ServiceAccount for the responder and a RoleBinding
 * of a built-in ClusterRole to it in the drill's namespace (never cluster-wide), labelled with the
 * run and the expiry, in the ledger before they exist; a token for the responder that expires with
 * the grant (registered as a secret). Kubernetes has no RoleBinding that expires by itself: the
 * binding is removed at teardown (and after a kill -9 by the reaper); the apiserver's audit log
 * records every use of the token under the responder's name.
 *
 * Postcondition: before the grant the responder may do none of the checks, after it all of them,
 * and its token really lists the namespace's secrets; the normal identities (the service's account
 * and an ordinary authenticated user) get exactly the decisions they got before.
 */
export async function enableEmergencyAccess(ctx: DrillContext, step: EnableEmergencyAccess): Promise<Record<string, unknown>> {
  const { api, namespace } = ctx.k8s;
  await ctx.k8s.requireDrillTarget('enable-emergency-access (creates a RoleBinding and a ServiceAccount)');
  const responder: Identity = { user: `system:serviceaccount:${namespace}:${step.responder}`, groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'] };
  const normal: Array<{ name: string; identity: Identity }> = [
    { name: 'the service\'s account (default)', identity: { user: `system:serviceaccount:${namespace}:default`, groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'] } },
    { name: 'an ordinary authenticated user', identity: { user: 'drill-ordinary-user', groups: ['system:authenticated'] } },
  ];
  const normalBefore = await Promise.all(normal.map((n) => accessOf(api, namespace, n.identity, EMERGENCY_CHECKS)));
  const responderBefore = await accessOf(api, namespace, responder, EMERGENCY_CHECKS);
  const expiresAt = new Date(Date.now() + step.duration).toISOString();
  const { kubeconfigPath: kubeconfig, context } = ctx.k8s.cluster;
  ctx.teardown.push(`remove the emergency access of ${step.responder}`, () => revokeEmergencyAccess(api, namespace, { serviceAccount: step.responder, roleBinding: `drill-emergency-access-${step.responder}` }));
  const grant = await grantEmergencyAccess(api, namespace, {
    responder: step.responder,
    clusterRole: step.clusterRole,
    expiresAt,
    runId: ctx.runId,
    creating: (g) => ctx.ledger.record({ kind: 'k8s-emergency-access', kubeconfig, context, namespace, roleBinding: g.roleBinding, serviceAccount: g.serviceAccount, runId: ctx.runId }),
  });
  const token = await issueResponderToken(api, namespace, grant.serviceAccount, step.duration / 1000, (t) => ctx.recorder.secrets.register(t, `the emergency access token of ${namespace}/${grant.serviceAccount}`));
  const responderAfter = await accessOf(api, namespace, responder, EMERGENCY_CHECKS);
  const normalAfter = await Promise.all(normal.map((n) => accessOf(api, namespace, n.identity, EMERGENCY_CHECKS)));
  // The token itself, from a client that holds nothing else: RBAC is eventually consistent, so a few tries.
  const used = await useToken(clientWithToken(api, token), namespace);

  const problems: string[] = [];
  const preGranted = Object.entries(responderBefore).filter(([, ok]) => ok).map(([k]) => k);
  if (preGranted.length > 0) problems.push(`the responder ${grant.serviceAccount} could already ${preGranted.join(', ')} before the grant: it proves nothing`);
  const denied = Object.entries(responderAfter).filter(([, ok]) => !ok).map(([k]) => k);
  if (denied.length > 0) problems.push(`the responder is still denied ${denied.join(', ')}`);
  if (!used.ok) problems.push(`the responder's token did not work: ${used.detail}`);
  normal.forEach((n, i) => {
    const changed = accessChanges(normalBefore[i]!, normalAfter[i]!);
    if (changed.length > 0) problems.push(`the access of ${n.name} changed: ${changed.join('; ')}`);
  });
  if (problems.length > 0) throw new StepFailedError('EMERGENCY_ACCESS_WRONG', `emergency access in ${namespace}: ${problems.join('; ')}`);
  ctx.recorder.event(
    'emergency-access-enabled',
    `break-glass access for ${responder.user}: ClusterRole ${grant.clusterRole} bound in ${namespace} (RoleBinding ${grant.roleBinding}) until ${expiresAt}; verified: ${used.detail}; normal access unchanged`,
    { grant, responder: responder.user },
  );
  return {
    responder: responder.user,
    roleBinding: grant.roleBinding,
    clusterRole: grant.clusterRole,
    expiresAt,
    responderAccess: { before: responderBefore, after: responderAfter },
    verified: used.detail,
    normalAccess: Object.fromEntries(normal.map((n, i) => [n.name, normalAfter[i]])),
  };
}

async function useToken(core: ReturnType<typeof clientWithToken>, namespace: string): Promise<{ ok: boolean; detail: string }> {
  let last = '';
  for (let attempt = 0; attempt < 20; attempt++) {
    try {
      const list = await core.listNamespacedSecret({ namespace });
      return { ok: true, detail: `the responder's token listed ${list.items.length} secret(s) in ${namespace}` };
    } catch (error) {
      last = apiMessage(error);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  return { ok: false, detail: last };
}
