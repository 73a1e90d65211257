import {
  AppsV1Api,
  CoreV1Api,
  DiscoveryV1Api,
  PolicyV1Api,
  VersionApi,
  type V1Deployment,
  type V1Pod,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadKubeConfig } from '../../src/targets/kubernetes/cluster-client.js';
import { FAKE_NODE_TAINT } from '../../src/targets/kubernetes/fake-nodes.js';
import { readAuditLog, statusOf, waitUntil } from './helpers.js';

// One real control plane for the whole run (test/support/control-plane-setup.ts): etcd,
// kube-apiserver, kube-controller-manager, kube-scheduler, one kwok per fake node, and real nodes
// (containerd + kubelet) for the system under drill. This file is about the control plane's
// mechanics (scheduling, eviction, budgets, cordon, audit), so its pods are kwok's: they tolerate
// the fake nodes' taint and are kept to them (their image is never pulled).
const shared = inject('k8s');
const kc = loadKubeConfig(shared.kubeconfigPath, shared.context);
const core = kc.makeApiClient(CoreV1Api);
const apps = kc.makeApiClient(AppsV1Api);
const policy = kc.makeApiClient(PolicyV1Api);
const discovery = kc.makeApiClient(DiscoveryV1Api);
const namespace = 'lcp-test';
const labels = { app: 'web' };
const onFakeNodes = { nodeSelector: { type: 'kwok' }, tolerations: [{ ...FAKE_NODE_TAINT, operator: 'Equal' }] };

const pods = async (): Promise<V1Pod[]> =>
  (await core.listNamespacedPod({ namespace, labelSelector: 'app=web' })).items.filter((p) => !p.metadata?.deletionTimestamp);
const isReady = (p: V1Pod) => p.status?.phase === 'Running' && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
const available = (want: number) =>
  waitUntil(`deployment web to have ${want} available replicas`, async () => {
    const d = await apps.readNamespacedDeployment({ name: 'web', namespace });
    const cond = d.status?.conditions?.find((c) => c.type === 'Available');
    const ready = (await pods()).filter(isReady);
    return d.status?.availableReplicas === want && d.status.replicas === want && cond?.status === 'True' && ready.length === want ? ready : undefined;
  });
const evict = (name: string) =>
  core.createNamespacedPodEviction({ name, namespace, body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace } } });
const cordon = (name: string, unschedulable: boolean) =>
  core.patchNode({ name, body: [{ op: 'add', path: '/spec/unschedulable', value: unschedulable }] });

beforeAll(async () => {
  await core.createNamespace({ body: { metadata: { name: namespace } } });
});

afterAll(async () => {
  for (const node of shared.nodes) await cordon(node, false).catch(() => undefined);
  await core.deleteNamespace({ name: namespace }).catch(() => undefined);
});

describe('local control plane (real apiserver, controllers and scheduler; kwok nodes beside real ones)', () => {
  it('serves the pinned Kubernetes version, with three Ready fake nodes in three zones, tainted beside two real nodes', async () => {
    const version = await kc.makeApiClient(VersionApi).getCode();
    expect(version.gitVersion).toBe(process.env.DRILL_KUBE_VERSION || 'v1.37.2');
    const nodes = (await core.listNode()).items;
    expect(nodes.map((n) => n.metadata?.name).sort()).toEqual([...shared.realNodes, ...shared.nodes].sort());
    expect(shared.realNodes).toHaveLength(2);
    for (const n of nodes) expect(n.status?.conditions?.find((c) => c.type === 'Ready')?.status, n.metadata?.name).toBe('True');
    const fake = nodes.filter((n) => shared.nodes.includes(n.metadata!.name!));
    for (const n of fake) {
      expect(n.metadata?.annotations?.['kwok.x-k8s.io/node']).toBe('fake');
      // Only pods that tolerate it land there: the system under drill must really run.
      expect(n.spec?.taints).toEqual([FAKE_NODE_TAINT]);
    }
    expect(fake.map((n) => n.metadata?.labels?.['topology.kubernetes.io/zone']).sort()).toEqual(['zone-a', 'zone-b', 'zone-c']);
    for (const n of nodes.filter((n) => shared.realNodes.includes(n.metadata!.name!))) {
      expect(n.metadata?.annotations?.['kwok.x-k8s.io/node']).toBeUndefined();
      expect(n.metadata?.labels?.['drill.dev/node-kind']).toBe('real');
      expect(n.spec?.taints ?? []).toEqual([]);
    }
    expect(shared.components.map((c) => c.name)).toEqual([
      'etcd',
      'kube-apiserver',
      'kube-controller-manager',
      'kube-scheduler',
      ...shared.nodes.map((n) => `kwok:${n}`),
    ]);
  });

  it('keeps a pod that does not tolerate the taint off the fake nodes', async () => {
    // Negative control of the toleration every other pod of this file carries (before any node is cordoned).
    await core.createNamespacedPod({
      namespace,
      body: { metadata: { name: 'untolerated' }, spec: { nodeSelector: onFakeNodes.nodeSelector, containers: [{ name: 'c', image: 'registry.invalid/web:1' }] } },
    });
    const scheduled = await waitUntil('the scheduler to refuse the pod', async () => {
      const pod = await core.readNamespacedPod({ name: 'untolerated', namespace });
      return pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
    });
    // The real nodes do not match its selector; every fake one has the taint.
    expect(scheduled).toMatchObject({
      reason: 'Unschedulable',
      message: expect.stringContaining(`${shared.realNodes.length} node(s) didn't match Pod's node affinity/selector, ${shared.nodes.length} node(s) had untolerated taint(s)`),
    });
    expect((await core.readNamespacedPod({ name: 'untolerated', namespace })).spec?.nodeName).toBeUndefined();
    await core.deleteNamespacedPod({ name: 'untolerated', namespace, gracePeriodSeconds: 0 });
  });

  it('rolls a Deployment of 3 replicas out onto the fake nodes until it is Available', async () => {
    const deployment: V1Deployment = {
      metadata: { name: 'web', labels },
      spec: {
        replicas: 3,
        selector: { matchLabels: labels },
        // kwok runs no containers: the image is never pulled.
        template: { metadata: { labels }, spec: { ...onFakeNodes, containers: [{ name: 'web', image: 'registry.invalid/web:1', ports: [{ containerPort: 8080 }] }] } },
      },
    };
    await apps.createNamespacedDeployment({ namespace, body: deployment });
    const ready = await available(3);
    const podCidrs = new Map((await core.listNode()).items.map((n) => [n.metadata!.name!, n.spec?.podCIDR]));
    for (const pod of ready) {
      expect(shared.nodes).toContain(pod.spec?.nodeName);
      // From its node's range (fake nodes: 198.19.128-255.0/24, inside the drill network's range).
      const cidr = podCidrs.get(pod.spec!.nodeName!)!;
      expect(cidr).toMatch(/^198\.19\.(1[3-9]\d|12[89]|2[0-4]\d|25[0-5])\.0\/24$/);
      expect(pod.status?.podIP?.startsWith(cidr.replace(/0\/24$/, ''))).toBe(true);
      // Created by the ReplicaSet controller from a ReplicaSet the Deployment controller made.
      expect(pod.metadata?.ownerReferences?.[0]?.kind).toBe('ReplicaSet');
    }
    expect(new Set(ready.map((p) => p.status?.podIP)).size).toBe(3);
  });

  it('gives a Service an EndpointSlice with a ready endpoint for each pod', async () => {
    await core.createNamespacedService({ namespace, body: { metadata: { name: 'web' }, spec: { selector: labels, ports: [{ port: 80, targetPort: 8080 }] } } });
    const podIPs = (await pods()).map((p) => p.status?.podIP).sort();
    const addresses = await waitUntil('ready endpoints of service web', async () => {
      const slices = await discovery.listNamespacedEndpointSlice({ namespace, labelSelector: 'kubernetes.io/service-name=web' });
      const ready = slices.items.flatMap((s) => s.endpoints.filter((e) => e.conditions?.ready).flatMap((e) => e.addresses));
      return ready.length === 3 ? ready.sort() : undefined;
    });
    expect(addresses).toEqual(podIPs);
  });

  it('evicts a pod through the eviction API, and the ReplicaSet replaces it', async () => {
    const [victim] = await pods();
    const status = await statusOf(evict(victim!.metadata!.name!));
    expect(status.code).toBe(200);
    const after = await available(3);
    expect(after.map((p) => p.metadata?.name)).not.toContain(victim!.metadata!.name);
  });

  it('refuses an eviction that a PodDisruptionBudget forbids (429), and allows it once the budget does', async () => {
    await policy.createNamespacedPodDisruptionBudget({
      namespace,
      body: { metadata: { name: 'web' }, spec: { minAvailable: 3, selector: { matchLabels: labels } } },
    });
    await waitUntil('the disruption controller to compute the budget', async () => {
      const s = (await policy.readNamespacedPodDisruptionBudget({ name: 'web', namespace })).status;
      return s && s.observedGeneration === 1 && s.currentHealthy === 3 ? s : undefined;
    });
    const [victim] = await pods();
    const name = victim!.metadata!.name!;
    const refused = await statusOf(evict(name));
    expect(refused.code).toBe(429);
    expect(refused.message).toMatch(/disruption budget/i);
    const untouched = await core.readNamespacedPod({ name, namespace });
    expect(untouched.metadata?.deletionTimestamp).toBeUndefined();

    await policy.patchNamespacedPodDisruptionBudget({ name: 'web', namespace, body: [{ op: 'replace', path: '/spec/minAvailable', value: 2 }] });
    await waitUntil('the budget to allow one disruption', async () => {
      const s = (await policy.readNamespacedPodDisruptionBudget({ name: 'web', namespace })).status;
      return s?.disruptionsAllowed === 1 ? s : undefined;
    });
    expect((await statusOf(evict(name))).code).toBe(200);
    await available(3);
  });

  it('keeps new pods off cordoned nodes', async () => {
    const [free, ...cordoned] = shared.nodes;
    const before = new Set((await pods()).map((p) => p.metadata?.name));
    for (const node of cordoned) await cordon(node!, true);
    await apps.patchNamespacedDeployment({ name: 'web', namespace, body: [{ op: 'replace', path: '/spec/replicas', value: 5 }] });
    const ready = await available(5);
    const added = ready.filter((p) => !before.has(p.metadata?.name));
    expect(added).toHaveLength(2);
    for (const pod of added) expect(pod.spec?.nodeName).toBe(free);
    const nodes = (await core.listNode()).items;
    expect(nodes.filter((n) => n.spec?.unschedulable).map((n) => n.metadata?.name).sort()).toEqual(cordoned.sort());
  });

  it('writes an audit log of who did what, at Metadata level', async () => {
    const events = await waitUntil('the audit events of this file', async () => {
      const all = readAuditLog(shared.auditLogPath).filter((e) => e.objectRef?.namespace === namespace && e.stage === 'ResponseComplete');
      return all.some((e) => e.objectRef?.subresource === 'eviction' && e.responseStatus?.code === 429) ? all : undefined;
    });
    expect(events.find((e) => e.verb === 'create' && e.objectRef?.resource === 'deployments')).toMatchObject({
      level: 'Metadata',
      user: { username: 'drill-admin' },
      objectRef: { name: 'web' },
      responseStatus: { code: 201 },
    });
    // The pods were created by the ReplicaSet controller under its own service account (the
    // negative control's pod above is the harness's own).
    const podCreators = new Set(
      events.filter((e) => e.verb === 'create' && e.objectRef?.resource === 'pods' && !e.objectRef.subresource && e.objectRef.name !== 'untolerated').map((e) => e.user.username),
    );
    expect([...podCreators]).toEqual(['system:serviceaccount:kube-system:replicaset-controller']);
    expect(events.filter((e) => e.objectRef?.subresource === 'eviction').map((e) => e.responseStatus?.code)).toEqual([201, 429, 201]);
    // Metadata level: no request or response bodies.
    expect(events.some((e) => e.requestObject !== undefined)).toBe(false);
  });
});
