import { CoreV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { DrillContext } from '../../src/engine/drill-context.js';
import { readResources, ResourceLedger } from '../../src/engine/resource-ledger.js';
import { TeardownStack } from '../../src/engine/teardown-stack.js';
import { EMERGENCY_CHECKS, enableEmergencyAccess } from '../../src/recovery/enable-emergency-access.js';
import { loadScenarioFile } from '../../src/scenario/loader.js';
import { recoveryStep } from '../../src/scenario/schema.js';
import { loadKubeConfig } from '../../src/targets/kubernetes/cluster-client.js';
import { accessChanges, accessOf } from '../../src/targets/kubernetes/emergency-access.js';
import { kubeApi } from '../../src/targets/kubernetes/kube-api.js';
import { reapEmergencyAccess } from '../../src/targets/kubernetes/reap-emergency-access.js';
import { KubernetesTarget } from '../../src/targets/kubernetes/kubernetes-target.js';
import type { KubernetesCluster } from '../../src/targets/kubernetes/types.js';
import { capturingRecorder } from '../support/capturing-recorder.js';
import { statusOf, waitUntil } from './helpers.js';
import { recordedTestDir, removeRecordedTestDir } from '../support/recorded-test-dir.js';

// enable-emergency-access on the shared control plane (a real kube-apiserver with RBAC): the grant
// is really created, really authorizes the responder's real token, leaves everyone else's access as
// it was, and is removed by teardown (and by the reaper, as after a kill -9).
const shared = inject('k8s');
const kc = loadKubeConfig(shared.kubeconfigPath, shared.context);
const core = kc.makeApiClient(CoreV1Api);
const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
const api = kubeApi(kc);
const cluster = {
  kind: 'kubeconfig',
  name: 'shared',
  kubeconfigPath: shared.kubeconfigPath,
  context: shared.context,
  targetPolicy: { kind: 'labelled-namespaces' },
  connect: () => loadKubeConfig(shared.kubeconfigPath, shared.context),
  nodes: async () => [],
  dispose: async () => undefined,
} as KubernetesCluster;
const work = recordedTestDir('drill-k8s-emergency-');
const namespaces: string[] = [];

afterAll(async () => {
  for (const name of namespaces) await core.deleteNamespace({ name }).catch(() => undefined);
  removeRecordedTestDir(work);
});

async function drill(runId: string) {
  const namespace = `drill-${runId}`;
  await core.createNamespace({ body: { metadata: { name: namespace, labels: { 'drill.dev/target': 'true' } } } });
  namespaces.push(namespace);
  await waitUntil('the default service account', () => core.readNamespacedServiceAccount({ name: 'default', namespace }).then(() => true), 30_000);
  const loaded = await loadScenarioFile('drills/scenarios/breach-leaked-service-account-token.yaml');
  const { recorder, secrets } = capturingRecorder(runId, loaded);
  const teardown = new TeardownStack();
  const ledgerFile = path.join(work, `${runId}.jsonl`);
  const ctx = {
    runId,
    scenario: loaded.scenario,
    clock: recorder.clock,
    recorder,
    signal: new AbortController().signal,
    teardown,
    ledger: new ResourceLedger(ledgerFile),
    k8s: new KubernetesTarget(cluster, 'kubeconfig', namespace, false, api),
    has: (part: string) => part === 'k8s',
  } as unknown as DrillContext;
  return { ctx, recorder, secrets, teardown, namespace, ledgerFile };
}

const step = (settings: Record<string, unknown> = {}) =>
  recoveryStep.parse({ step: 'enable-emergency-access', ...settings }) as Extract<ReturnType<typeof recoveryStep.parse>, { step: 'enable-emergency-access' }>;

const responderOf = (namespace: string) => ({ user: `system:serviceaccount:${namespace}:incident-responder`, groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'] });

describe('enable-emergency-access (shared control plane)', () => {
  it('grants the responder, and only the responder, access that its own token proves; teardown takes it away', async () => {
    const { ctx, recorder, secrets, teardown, namespace, ledgerFile } = await drill('emergency-grant');
    try {
      const output = await enableEmergencyAccess(ctx, step({ duration: '15m' }));
      expect(output).toMatchObject({
        responder: `system:serviceaccount:${namespace}:incident-responder`,
        roleBinding: 'drill-emergency-access-incident-responder',
        clusterRole: 'admin',
        verified: expect.stringMatching(new RegExp(`^the responder's token listed \\d+ secret\\(s\\) in ${namespace}$`)),
      });
      const access = output.responderAccess as { before: Record<string, boolean>; after: Record<string, boolean> };
      expect(Object.values(access.before)).toEqual(EMERGENCY_CHECKS.map(() => false));
      expect(Object.values(access.after)).toEqual(EMERGENCY_CHECKS.map(() => true));
      // The service's own account is still denied what the responder now may do.
      expect(Object.values((output.normalAccess as Record<string, Record<string, boolean>>)["the service's account (default)"]!)).toEqual(EMERGENCY_CHECKS.map(() => false));
      // Time-limited: the token expires (the claim), the objects carry the run and the expiry; in the ledger.
      const token = secrets.get(`the emergency access token of ${namespace}/incident-responder`)!;
      const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { exp: number; iat: number; sub: string };
      expect(claims.sub).toBe(`system:serviceaccount:${namespace}:incident-responder`);
      expect(claims.exp - claims.iat).toBe(900);
      const binding = await rbac.readNamespacedRoleBinding({ name: 'drill-emergency-access-incident-responder', namespace });
      expect(binding.metadata!.labels).toMatchObject({ 'drill.dev/emergency-access': 'true', 'drill.dev/run': expect.any(String) });
      expect(Date.parse(binding.metadata!.annotations!['drill.dev/expires-at']!)).toBeGreaterThan(Date.now());
      expect(readResources(ledgerFile)).toContainEqual(expect.objectContaining({ kind: 'k8s-emergency-access', namespace, roleBinding: binding.metadata!.name }));
      expect(recorder.journal.events.find((e) => e.kind === 'emergency-access-enabled')!.message).not.toContain(token);
    } finally {
      expect(await teardown.runAll()).toEqual([]);
    }
    expect((await statusOf(rbac.readNamespacedRoleBinding({ name: 'drill-emergency-access-incident-responder', namespace }))).code).toBe(404);
    expect((await statusOf(core.readNamespacedServiceAccount({ name: 'incident-responder', namespace }))).code).toBe(404);
    expect(Object.values(await accessOf(api, namespace, responderOf(namespace), EMERGENCY_CHECKS))).toEqual(EMERGENCY_CHECKS.map(() => false));
  });

  it('negative control: a grant that also reaches the service\'s account changes normal access, and the comparison the step makes names it', async () => {
    const { namespace } = await drill('emergency-too-broad');
    const normal = { user: `system:serviceaccount:${namespace}:default`, groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'] };
    const before = await accessOf(api, namespace, normal, EMERGENCY_CHECKS);
    await rbac.createNamespacedRoleBinding({
      namespace,
      body: { metadata: { name: 'too-broad' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' }, subjects: [{ kind: 'Group', name: `system:serviceaccounts:${namespace}`, apiGroup: 'rbac.authorization.k8s.io' }] },
    });
    const after = await waitUntil('the binding to take effect', async () => {
      const now = await accessOf(api, namespace, normal, EMERGENCY_CHECKS);
      return now['list pods'] ? now : undefined;
    });
    expect(accessChanges(before, after)).toEqual(['get pods/log: denied → allowed', 'list pods: denied → allowed']);
  });

  it('after a kill -9, the reaper removes a grant only while it carries the run\'s label', async () => {
    const { ctx, namespace, ledgerFile } = await drill('emergency-reaped');
    await enableEmergencyAccess(ctx, step());
    const entry = readResources(ledgerFile).find((r) => r.kind === 'k8s-emergency-access')!;
    expect(await reapEmergencyAccess({ ...(entry as Extract<typeof entry, { kind: 'k8s-emergency-access' }>), runId: 'another-run' })).toMatchObject({ state: 'absent' });
    expect((await statusOf(rbac.readNamespacedRoleBinding({ name: 'drill-emergency-access-incident-responder', namespace }))).code).toBe(200);
    expect(await reapEmergencyAccess(entry as Extract<typeof entry, { kind: 'k8s-emergency-access' }>)).toMatchObject({ state: 'removed' });
    expect((await statusOf(rbac.readNamespacedRoleBinding({ name: 'drill-emergency-access-incident-responder', namespace }))).code).toBe(404);
    expect((await statusOf(core.readNamespacedServiceAccount({ name: 'incident-responder', namespace }))).code).toBe(404);
  });
});
