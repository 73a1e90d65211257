import { CoreV1Api } from '@kubernetes/client-node';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { DrillContext } from '../../src/engine/drill-context.js';
import { ResourceLedger } from '../../src/engine/resource-ledger.js';
import { TeardownStack } from '../../src/engine/teardown-stack.js';
import { injectCredentialLeak } from '../../src/injectors/credential-leak.js';
import { preserveForensics } from '../../src/recovery/preserve-forensics.js';
import { loadScenarioFile } from '../../src/scenario/loader.js';
import { fault as faultSchema, recoveryStep } from '../../src/scenario/schema.js';
import { loadKubeConfig } from '../../src/targets/kubernetes/cluster-client.js';
import { kubeApi } from '../../src/targets/kubernetes/kube-api.js';
import { KubernetesTarget } from '../../src/targets/kubernetes/kubernetes-target.js';
import type { KubernetesCluster } from '../../src/targets/kubernetes/types.js';
import { capturingRecorder } from '../support/capturing-recorder.js';
import { waitUntil } from './helpers.js';
import { recordedTestDir, removeRecordedTestDir } from '../support/recorded-test-dir.js';

// preserve-forensics' Kubernetes artifacts on the shared control plane, whose apiserver writes an
// audit log this test may read (as a drill that runs its own control plane does): the namespace's
// objects, and the audit events that concern that namespace and no other.
const shared = inject('k8s');
const kc = loadKubeConfig(shared.kubeconfigPath, shared.context);
const core = kc.makeApiClient(CoreV1Api);
const cluster = {
  kind: 'local',
  name: 'shared',
  kubeconfigPath: shared.kubeconfigPath,
  context: shared.context,
  auditLogPath: shared.auditLogPath,
  targetPolicy: { kind: 'labelled-namespaces' },
  connect: () => loadKubeConfig(shared.kubeconfigPath, shared.context),
  nodes: async () => [],
  dispose: async () => undefined,
} as KubernetesCluster;
const work = recordedTestDir('drill-k8s-forensics-');
const namespaces: string[] = [];
afterAll(async () => {
  for (const name of namespaces) await core.deleteNamespace({ name }).catch(() => undefined);
  removeRecordedTestDir(work);
});

const step = (artifacts: string[]) => recoveryStep.parse({ step: 'preserve-forensics', artifacts }) as Extract<ReturnType<typeof recoveryStep.parse>, { step: 'preserve-forensics' }>;

async function drill(runId: string) {
  const namespace = `drill-${runId}`;
  await core.createNamespace({ body: { metadata: { name: namespace, labels: { 'drill.dev/target': 'true' } } } });
  namespaces.push(namespace);
  const loaded = await loadScenarioFile('drills/scenarios/breach-leaked-service-account-token.yaml');
  const { recorder, secrets } = capturingRecorder(runId, loaded);
  const runDir = path.join(work, runId);
  mkdirSync(runDir);
  const ctx = {
    runId,
    scenario: loaded.scenario,
    clock: recorder.clock,
    recorder,
    signal: new AbortController().signal,
    teardown: new TeardownStack(),
    ledger: new ResourceLedger(undefined),
    runDir,
    k8s: new KubernetesTarget(cluster, 'local', namespace, false, kubeApi(kc)),
    has: (part: string) => part === 'k8s',
  } as unknown as DrillContext;
  return { ctx, recorder, secrets, namespace, runDir };
}

describe('preserve-forensics on Kubernetes (shared control plane with an audit log)', () => {
  it('preserves the namespace\'s objects and its audit events, hashed; a pod log that cannot be read is a gap', async () => {
    const { ctx, recorder, namespace, runDir } = await drill('forensics-k8s');
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'evidence-marker' }, data: { a: 'b' } } });
    // The apiserver writes its audit log a little after the request.
    await waitUntil('the audit event of the ConfigMap', async () => (readFileSync(shared.auditLogPath, 'utf8').includes(`"name":"evidence-marker"`) ? true : undefined), 30_000);
    const output = await preserveForensics(ctx, step(['kubernetes-objects', 'apiserver-audit-log', 'pod-logs']));
    const record = recorder.journal.forensics!;
    expect(record.artifacts.map((a) => a.path)).toEqual([
      'forensics/kubernetes-pods.json',
      'forensics/kubernetes-events.json',
      'forensics/kubernetes-nodes.json',
      'forensics/apiserver-audit.jsonl',
    ]);
    // An empty namespace has no pod log to read: asked for by name, that is a gap the check fails on.
    expect(record.gaps).toEqual([{ kind: 'pod-logs', reason: `namespace ${namespace} has no pod whose log could be read` }]);
    const audit = readFileSync(path.join(runDir, 'forensics', 'apiserver-audit.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { verb: string; objectRef?: { namespace?: string; name?: string; resource?: string }; user: { username: string } });
    expect(audit.some((e) => e.verb === 'create' && e.objectRef?.resource === 'configmaps' && e.objectRef.name === 'evidence-marker')).toBe(true);
    expect(audit.every((e) => e.objectRef?.namespace === namespace || e.objectRef?.name === namespace || e.user.username.startsWith(`system:serviceaccount:${namespace}:`))).toBe(true);
    expect(output).toMatchObject({ requested: ['kubernetes-objects', 'apiserver-audit-log', 'pod-logs'] });
  });

  it('selects the requests of a leaked bound token by its credential id (JTI) from the audit log; the legacy token has none', async () => {
    const { ctx, recorder, secrets, namespace, runDir } = await drill('forensics-jti');
    await waitUntil('the default service account', () => core.readNamespacedServiceAccount({ name: 'default', namespace }).then(() => true), 30_000);
    const leak = faultSchema.parse({ type: 'credential-leak', kind: 'k8s-service-account-token', attacker: { interval: '200ms', maxDuration: '1m', proveWithin: '30s' } }) as Extract<
      ReturnType<typeof faultSchema.parse>,
      { type: 'credential-leak' }
    >;
    const handle = await injectCredentialLeak(ctx, leak);
    try {
      const [bound, legacy] = recorder.journal.attacker!.credentials;
      const token = secrets.get(`the leaked bound service-account token of ${namespace}/default`)!;
      const jti = (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { jti: string }).jti;
      expect(bound!.credentialId).toBe(`JTI=${jti}`);
      expect(legacy!.credentialId).toBeUndefined();
      // Its uses reach the audit log a little after they are answered.
      await waitUntil('an audit event of the bound token', async () => (readFileSync(shared.auditLogPath, 'utf8').includes(`JTI=${jti}`) ? true : undefined), 30_000);
      await preserveForensics(ctx, step(['apiserver-audit-log']));
      const record = recorder.journal.forensics!;
      expect(record.gaps).toEqual([]);
      const own = record.artifacts.find((a) => a.path === `forensics/apiserver-audit-${bound!.name}.jsonl`)!;
      expect(own.how).toMatch(new RegExp(`^the \\d+ audit event\\(s\\) of the leaked credential ${bound!.name} \\(${bound!.fingerprint}\\), selected by its credential id JTI=${jti}$`));
      const events = readFileSync(path.join(runDir, own.path), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { user: { username: string; extra: Record<string, string[]> }; objectRef?: { resource?: string } });
      expect(events.length).toBeGreaterThan(0);
      expect(events.every((e) => e.user.username === `system:serviceaccount:${namespace}:default` && e.user.extra['authentication.kubernetes.io/credential-id']!.includes(`JTI=${jti}`))).toBe(true);
      expect(events.some((e) => e.objectRef?.resource === 'selfsubjectreviews')).toBe(true);
      // No token in the preserved files (the audit log is at Metadata level; the Redactor knows them anyway).
      for (const a of record.artifacts) expect(readFileSync(path.join(runDir, a.path), 'utf8').includes(token)).toBe(false);
    } finally {
      await handle[Symbol.asyncDispose]();
    }
  });
});
