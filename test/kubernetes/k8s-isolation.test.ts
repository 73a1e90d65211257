import { AppsV1Api, CoreV1Api, NetworkingV1Api } from '@kubernetes/client-node';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { DrillContext } from '../../src/engine/drill-context.js';
import { readResources, ResourceLedger } from '../../src/engine/resource-ledger.js';
import { TeardownStack } from '../../src/engine/teardown-stack.js';
import { isolateCompromisedNodes, POLICY_ENFORCEMENT } from '../../src/recovery/isolate-compromised-nodes.js';
import { loadScenarioFile } from '../../src/scenario/loader.js';
import { recoveryStep } from '../../src/scenario/schema.js';
import { kubeApi } from '../../src/targets/kubernetes/kube-api.js';
import { KubernetesTarget } from '../../src/targets/kubernetes/kubernetes-target.js';
import { LocalControlPlane } from '../../src/targets/kubernetes/local-control-plane.js';
import { recordedProcessAlive } from '../../src/targets/kubernetes/recorded-process.js';
import { capturingRecorder } from '../support/capturing-recorder.js';
import { waitUntil } from './helpers.js';
import { recordedTestDir, removeRecordedTestDir } from '../support/recorded-test-dir.js';

// isolate-compromised-nodes on a control plane of its own (a NoExecute taint moves every pod off a
// node: never on the shared one), with two kwok nodes: the compromised workload (pods running as
// `default`) pinned to one, a bystander (another account) on the other.
const tmp = recordedTestDir('drill-k8s-isolation-');
afterAll(() => removeRecordedTestDir(tmp));

const step = recoveryStep.parse({ step: 'isolate-compromised-nodes', timeout: '60s' }) as Extract<ReturnType<typeof recoveryStep.parse>, { step: 'isolate-compromised-nodes' }>;

function deployment(name: string, serviceAccount: string, node: string) {
  return {
    metadata: { name },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          serviceAccountName: serviceAccount,
          nodeSelector: { 'kubernetes.io/hostname': node },
          tolerations: [{ key: 'drill.dev/fake-node', operator: 'Exists', effect: 'NoSchedule' as const }],
          containers: [{ name: 'app', image: 'drill.local/none:1' }],
        },
      },
    },
  };
}

describe('isolate-compromised-nodes (a control plane of its own, kwok nodes)', () => {
  it('cordons and taints only the nodes of the compromised pods, denies all traffic in the namespace (API state), evicts those pods; teardown undoes it', async () => {
    const ledgerFile = path.join(tmp, 'isolation.jsonl');
    const cp = await LocalControlPlane.start({ runId: 'isolation', ledger: new ResourceLedger(ledgerFile), nodes: 2, kubeconfigPath: path.join(tmp, 'isolation.kubeconfig') });
    try {
      const kc = cp.connect();
      const core = kc.makeApiClient(CoreV1Api);
      const apps = kc.makeApiClient(AppsV1Api);
      const [compromisedNode, otherNode] = cp.fakeNodeNames as [string, string];
      const namespace = 'drill-isolation';
      await core.createNamespace({ body: { metadata: { name: namespace, labels: { 'drill.dev/target': 'true' } } } });
      await waitUntil('the default service account', () => core.readNamespacedServiceAccount({ name: 'default', namespace }).then(() => true), 30_000);
      await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: 'bystander' } } });
      await apps.createNamespacedDeployment({ namespace, body: deployment('compromised', 'default', compromisedNode) });
      await apps.createNamespacedDeployment({ namespace, body: deployment('bystander', 'bystander', otherNode) });
      const running = async (app: string) => (await core.listNamespacedPod({ namespace, labelSelector: `app=${app}` })).items.filter((p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp);
      await waitUntil('both deployments running', async () => ((await running('compromised')).length === 2 && (await running('bystander')).length === 2 ? true : undefined));
      const compromisedUids = (await running('compromised')).map((p) => p.metadata!.uid);
      const bystanders = (await running('bystander')).map((p) => p.metadata!.uid);

      const loaded = await loadScenarioFile('drills/scenarios/breach-leaked-service-account-token.yaml');
      const { recorder } = capturingRecorder('isolation', loaded);
      const teardown = new TeardownStack();
      const ctx = {
        runId: 'isolation',
        scenario: loaded.scenario,
        clock: recorder.clock,
        recorder,
        signal: new AbortController().signal,
        teardown,
        ledger: new ResourceLedger(undefined),
        k8s: new KubernetesTarget(cp, 'local', namespace, false, kubeApi(kc)),
        has: (part: string) => part === 'k8s',
      } as unknown as DrillContext;
      const output = await isolateCompromisedNodes(ctx, step);
      expect(output).toMatchObject({ nodes: [compromisedNode], networkPolicy: { name: 'drill-deny-all', enforced: POLICY_ENFORCEMENT.local }, serviceAccount: 'default' });
      const node = await core.readNode({ name: compromisedNode });
      expect(node.spec!.unschedulable).toBe(true);
      expect(node.spec!.taints).toContainEqual(expect.objectContaining({ key: 'drill.dev/compromised', effect: 'NoExecute' }));
      const other = await core.readNode({ name: otherNode });
      expect(other.spec!.unschedulable ?? false).toBe(false);
      expect((other.spec!.taints ?? []).some((t) => t.key === 'drill.dev/compromised')).toBe(false);
      const policy = await kc.makeApiClient(NetworkingV1Api).readNamespacedNetworkPolicy({ name: 'drill-deny-all', namespace });
      expect(policy.spec).toMatchObject({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
      const pods = (await core.listNamespacedPod({ namespace })).items;
      expect(pods.filter((p) => compromisedUids.includes(p.metadata!.uid))).toEqual([]);
      // The bystander on the other node was not touched.
      expect((await running('bystander')).map((p) => p.metadata!.uid).sort()).toEqual([...bystanders].sort());
      expect(recorder.journal.events.find((e) => e.kind === 'nodes-isolated')!.message).toContain(`node(s) ${compromisedNode} cordoned and tainted`);

      expect(await teardown.runAll()).toEqual([]);
      const released = await core.readNode({ name: compromisedNode });
      expect(released.spec!.unschedulable ?? false).toBe(false);
      expect((released.spec!.taints ?? []).some((t) => t.key === 'drill.dev/compromised')).toBe(false);
      expect((await kc.makeApiClient(NetworkingV1Api).listNamespacedNetworkPolicy({ namespace })).items).toEqual([]);

      // An account no pod runs as has no node to isolate: the step fails rather than claim an isolation.
      const none = recoveryStep.parse({ step: 'isolate-compromised-nodes', serviceAccount: 'nobody' }) as typeof step;
      await expect(isolateCompromisedNodes(ctx, none)).rejects.toMatchObject({ code: 'NOTHING_TO_ISOLATE' });
    } finally {
      await cp.dispose();
    }
    expect(readResources(ledgerFile).filter((r) => (r.kind === 'process' && recordedProcessAlive(r.pid, r.match)) || (r.kind === 'temp-dir' && existsSync(r.path)))).toEqual([]);
  });

  it('refuses a cluster the drill did not create (nodes are shared by every namespace there)', async () => {
    const cluster = { name: 'shared', targetPolicy: { kind: 'labelled-namespaces' } };
    const ctx = { k8s: new KubernetesTarget(cluster as never, 'kubeconfig', 'drill-x', false, {} as never), runId: 'x' } as unknown as DrillContext;
    await expect(isolateCompromisedNodes(ctx, step)).rejects.toMatchObject({ code: 'NOT_A_DRILL_TARGET' });
  });
});
