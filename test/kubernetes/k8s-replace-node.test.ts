import { existsSync } from 'node:fs';
import path from 'node:path';
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startClock } from '../../src/engine/clock.js';
import type { DrillContext } from '../../src/engine/drill-context.js';
import { EnvironmentError, InputError, StepFailedError } from '../../src/engine/errors.js';
import { JournalRecorder } from '../../src/engine/journal-recorder.js';
import { readResources, ResourceLedger } from '../../src/engine/resource-ledger.js';
import { runProcedure } from '../../src/recovery/index.js';
import { loadScenarioFile } from '../../src/scenario/loader.js';
import { recoveryStep } from '../../src/scenario/schema.js';
import { fakeNodeManifest } from '../../src/targets/kubernetes/fake-nodes.js';
import { kubeApi, type KubeApi } from '../../src/targets/kubernetes/kube-api.js';
import { KubeconfigCluster } from '../../src/targets/kubernetes/kubeconfig-cluster.js';
import { KubernetesTarget } from '../../src/targets/kubernetes/kubernetes-target.js';
import { LocalControlPlane } from '../../src/targets/kubernetes/local-control-plane.js';
import { schedulableNodeNames } from '../../src/targets/kubernetes/node-capacity.js';
import { recordedProcessAlive } from '../../src/targets/kubernetes/recorded-process.js';
import type { KubernetesCluster } from '../../src/targets/kubernetes/types.js';
import { waitUntil } from './helpers.js';
import { recordedTestDir, removeRecordedTestDir } from '../support/recorded-test-dir.js';

// A control plane of its own (not the shared one): these tests add, kill and delete nodes, which
// every namespace of a cluster shares, and check what dispose() leaves.
const tmp = recordedTestDir('drill-replace-node-');
const ledgerFile = path.join(tmp, 'resources.jsonl');
afterAll(() => removeRecordedTestDir(tmp));

const loaded = await loadScenarioFile('drills/scenarios/k8s-node-failure-drain.yaml');
const clock = startClock();
const recorder = new JournalRecorder(clock, 'replace-node-test', loaded);
const abort = new AbortController();

let cp: LocalControlPlane;
let api: KubeApi;
/** Nodes added with a kwok of their own (the dispose test checks those agents stop). */
const joined: string[] = [];
const NS = 'default';

const contextOn = (target: KubernetesTarget) =>
  ({ runId: 'replace-node-test', scenario: loaded.scenario, clock, recorder, signal: abort.signal, k8s: target, has: (part: string) => part === 'k8s' }) as unknown as DrillContext;
const replaceNode = (target: KubernetesTarget, step: Record<string, unknown> = {}) => runProcedure(contextOn(target), recoveryStep.parse({ step: 'k8s-replace-node', ...step }));
const failure = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e as Error & { code?: string },
  );
const readNode = (name: string) => api.core.readNode({ name });
const zoneOf = (node: V1Node) => node.metadata?.labels?.['topology.kubernetes.io/zone'];
const isReady = (p: V1Pod) => p.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';

/** Simulates what the drill did before the step: the node's kubelet died and the node was deleted. */
async function loseNode(name: string): Promise<void> {
  await cp.stopNodeAgent(name, 'kill');
  await api.core.deleteNode({ name });
  await waitUntil(`node ${name} to be gone`, () => readNode(name).then(() => undefined, () => true));
}

beforeAll(async () => {
  cp = await LocalControlPlane.start({ runId: 'replace-node-test', ledger: new ResourceLedger(ledgerFile), nodes: 2 });
  api = kubeApi(cp.connect());
}, 120_000);

afterAll(async () => {
  await cp?.dispose();
});

describe('LocalControlPlane.addNode', () => {
  it('joins a fake node like the initial ones, with its own kwok and pod CIDR, where the scheduler places pods', async () => {
    const name = await cp.addNode();
    joined.push(name);
    expect(name).toBe('kwok-node-3');
    const node = await readNode(name);
    expect(node.metadata?.annotations).toMatchObject({ 'kwok.x-k8s.io/node': 'fake' });
    expect(node.metadata?.labels).toMatchObject({ type: 'kwok', 'kubernetes.io/hostname': name, 'node-role.kubernetes.io/worker': '' });
    // zone-a and zone-b have a node each: the new one goes to the zone without.
    expect(zoneOf(node)).toBe('zone-c');
    const cidrs = (await api.core.listNode()).items.map((n) => n.spec?.podCIDR);
    // podCidrOf(2): fake node pod ranges are 198.19.(128+i).0/24, inside the drill network's range.
    expect(node.spec?.podCIDR).toBe('198.19.130.0/24');
    expect(new Set(cidrs).size).toBe(cidrs.length);
    expect(node.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(cp.nodeAgent(name)?.pid).toBeGreaterThan(0);
    expect(cp.components.map((c) => c.name)).toContain(`kwok:${name}`);

    // Bound by the scheduler (a nodeSelector, not spec.nodeName), then Running and Ready by the new node's kwok.
    await api.core.createNamespacedPod({
      namespace: NS,
      body: {
        metadata: { name: 'on-new-node' },
        spec: { nodeSelector: { 'kubernetes.io/hostname': name }, containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10' }] },
      },
    });
    const pod = await waitUntil('the pod to be Ready on the new node', async () => {
      const p = await api.core.readNamespacedPod({ name: 'on-new-node', namespace: NS });
      return isReady(p) ? p : undefined;
    });
    expect(pod.spec?.nodeName).toBe(name);
    expect(pod.status?.phase).toBe('Running');
    // From the new node's own range, so no other node hands out the same IP.
    expect(pod.status?.podIP).toMatch(/^198\.19\.130\./);
    await api.core.deleteNamespacedPod({ name: 'on-new-node', namespace: NS, gracePeriodSeconds: 0 });
  });

  it('takes a name and a zone, and refuses a name the cluster already has', async () => {
    const name = await cp.addNode('replacement-a', 'zone-a');
    expect(name).toBe('replacement-a');
    expect(zoneOf(await readNode(name))).toBe('zone-a');
    expect((await readNode(name)).spec?.podCIDR).toBe('198.19.131.0/24');

    const again = await failure(cp.addNode('replacement-a'));
    expect(again).toBeInstanceOf(InputError);
    expect(again).toMatchObject({ code: 'NODE_EXISTS' });
    // A Node someone else registered under the name is refused too, and left alone.
    await api.core.createNode({ body: fakeNodeManifest(120, { name: 'registered-elsewhere' }) });
    expect(await failure(cp.addNode('registered-elsewhere'))).toMatchObject({ code: 'NODE_EXISTS', message: expect.stringMatching(/not one this control plane added/) });
    expect(cp.nodeAgent('registered-elsewhere')).toBeUndefined();
    await api.core.deleteNode({ name: 'registered-elsewhere' });
    await api.core.deleteNode({ name });
    await cp.stopNodeAgent(name, 'terminate');
  });
});

describe('k8s-replace-node (runbook "Scale node group to replace nodes")', () => {
  it('adds a node in the zone that lost one, back to the node count the drill started with', async () => {
    const atStart = await schedulableNodeNames(api);
    const target = new KubernetesTarget(cp, 'local', NS, false, api, atStart.length);
    const lost = 'kwok-node-1';
    const lostZone = zoneOf(await readNode(lost));
    await loseNode(lost);

    const out = await replaceNode(target);
    const added = out.added as Array<{ node: string; zone: string; readyAfterMs: number }>;
    expect(out).toMatchObject({ desiredNodes: atStart.length, desiredFrom: 'nodes at drill start', schedulableBefore: atStart.filter((n) => n !== lost) });
    expect(added).toHaveLength(1);
    joined.push(added[0]!.node);
    expect(added[0]!.node).not.toBe(lost);
    expect(added[0]!.zone).toBe(lostZone);
    expect(added[0]!.readyAfterMs).toBeGreaterThan(0);
    expect(out.schedulableAfter).toEqual([...atStart.filter((n) => n !== lost), added[0]!.node].sort());
    expect(await schedulableNodeNames(api)).toHaveLength(atStart.length);
    expect(recorder.journal.events.at(-1)).toMatchObject({ kind: 'node-group', message: expect.stringMatching(new RegExp(`${added[0]!.node} \\(${lostZone}\\) schedulable after`)) });

    // At the desired count already: nothing is added (set-desired-capacity is idempotent).
    expect(await replaceNode(target)).toMatchObject({ added: [], schedulableAfter: out.schedulableAfter });
    // A larger desired count adds what is missing.
    const more = await replaceNode(target, { desiredNodes: atStart.length + 1 });
    expect(more.added).toHaveLength(1);
    joined.push((more.added as Array<{ node: string }>)[0]!.node);
    expect(await schedulableNodeNames(api)).toHaveLength(atStart.length + 1);
  });

  it('fails its postcondition, naming the node, when a new node registers but never becomes Ready', async () => {
    // A node group whose machines register and whose kubelets never start.
    const broken: KubernetesCluster = {
      kind: 'local',
      name: cp.name,
      kubeconfigPath: cp.kubeconfigPath,
      context: cp.context,
      targetPolicy: cp.targetPolicy,
      connect: () => cp.connect(),
      nodes: () => cp.nodes(),
      dispose: async () => undefined,
      addNode: async () => (await api.core.createNode({ body: fakeNodeManifest(121, { name: 'never-ready' }) })).metadata!.name!,
    };
    const have = (await schedulableNodeNames(api)).length;
    const target = new KubernetesTarget(broken, 'local', NS, false, api, have + 1);
    try {
      const error = await failure(replaceNode(target, { timeout: '3s' }));
      expect(error).toBeInstanceOf(StepFailedError);
      expect(error).toMatchObject({
        code: 'NODE_CAPACITY_NOT_RESTORED',
        message: expect.stringMatching(new RegExp(`set-desired-capacity ${have + 1}: ${have} Ready, schedulable node\\(s\\) after .*never-ready: Ready=unknown`)),
      });
    } finally {
      await api.core.deleteNode({ name: 'never-ready' });
    }
  });

  it('on a cluster the drill cannot add nodes to, says the node group does it (exit 3) and adds nothing', async () => {
    const before = (await api.core.listNode()).items.length;
    const someoneElses = new KubernetesTarget(await KubeconfigCluster.open({ kubeconfigPath: cp.kubeconfigPath }), 'kubeconfig', NS, false, api);
    const error = await failure(replaceNode(someoneElses));
    expect(error).toBeInstanceOf(EnvironmentError);
    expect(error).toMatchObject({
      code: 'NODE_REPLACEMENT_UNSUPPORTED',
      message: expect.stringMatching(/was not started by the drill.*node group's job there \(e\.g\. the cloud autoscaler after `aws autoscaling set-desired-capacity`\)/),
    });
    const kind = { kind: 'kind', name: 'drill-x', targetPolicy: { kind: 'whole-cluster' } } as unknown as KubernetesCluster;
    expect(() => new KubernetesTarget(kind, 'kind', NS, true, api).requireNodeProvisioning('k8s-replace-node')).toThrow(
      /k8s-replace-node: the nodes of kind cluster "drill-x" are containers fixed by its kind config/,
    );
    expect((await api.core.listNode()).items).toHaveLength(before);
  });
});

describe('dispose', () => {
  it('stops the added nodes\' kwok with the rest and leaves nothing', async () => {
    expect(joined).toHaveLength(3);
    const added = joined.map((n) => cp.nodeAgent(n)!);
    expect(added.every((p) => recordedProcessAlive(p.pid, cp.root))).toBe(true);
    await cp.dispose();
    const recorded = readResources(ledgerFile).filter((r) => r.kind === 'process');
    for (const p of added) {
      expect(recorded).toContainEqual(expect.objectContaining({ name: p.name, pid: p.pid }));
      expect(recordedProcessAlive(p.pid, cp.root)).toBe(false);
    }
    expect(recorded.filter((r) => r.kind === 'process' && recordedProcessAlive(r.pid, r.match))).toEqual([]);
    expect(existsSync(cp.root)).toBe(false);
  });
});
