import { AppsV1Api, CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startClock } from '../../src/engine/clock.js';
import type { DrillContext } from '../../src/engine/drill-context.js';
import { InputError, StepFailedError } from '../../src/engine/errors.js';
import { JournalRecorder } from '../../src/engine/journal-recorder.js';
import { provisionKubernetes } from '../../src/targets/kubernetes/provision-kubernetes.js';
import { ResourceLedger } from '../../src/engine/resource-ledger.js';
import { TeardownStack } from '../../src/engine/teardown-stack.js';
import { inject as injectFault } from '../../src/injectors/index.js';
import { runProcedure } from '../../src/recovery/index.js';
import { fault as faultSchema, recoveryStep, scenarioSchema } from '../../src/scenario/schema.js';
import { loadScenarioFile } from '../../src/scenario/loader.js';
import { loadKubeConfig } from '../../src/targets/kubernetes/cluster-client.js';
import type { KubernetesTarget } from '../../src/targets/kubernetes/kubernetes-target.js';
import { K8sReadyProbe } from '../../src/workload/probes/k8s-ready-probe.js';
import { waitUntil } from './helpers.js';

// The shared control plane (test/support/control-plane-setup.ts), reached as someone else's
// cluster would be: provider kubeconfig, a namespace labelled drill.dev/target=true.
const shared = inject('k8s');
const core = loadKubeConfig(shared.kubeconfigPath, shared.context).makeApiClient(CoreV1Api);
const NS = 'drill-steps-test';
const UNLABELLED = 'drill-steps-unlabelled';

const loaded = await loadScenarioFile('drills/scenarios/k8s-bad-release-rollback.yaml');
const clock = startClock();
const recorder = new JournalRecorder(clock, 'steps-test', loaded);
const teardown = new TeardownStack();
const abort = new AbortController();
const spec = (namespace: string) =>
  scenarioSchema.shape.targets.parse({ kubernetes: { provider: 'kubeconfig', kubeconfig: shared.kubeconfigPath, context: shared.context, namespace } }).kubernetes!;
const provision = (namespace: string, stack = teardown) =>
  // The system under drill runs as real containers: it needs its database (the shared one).
  provisionKubernetes(spec(namespace), { runId: 'steps-test', clock, ledger: new ResourceLedger(undefined), teardown: stack, recorder, signal: abort.signal, databaseUrl: shared.databaseUrl });

let k8s: KubernetesTarget;
let ctx: DrillContext;
const step = (s: unknown) => runProcedure(ctx, recoveryStep.parse(s));
const fault = (f: unknown) => injectFault(ctx, faultSchema.parse(f));
const isReady = (p: V1Pod) => p.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
const podsOf = async (selector: string) => (await core.listNamespacedPod({ namespace: NS, labelSelector: selector })).items.filter((p) => !p.metadata?.deletionTimestamp);
const failure = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e as Error & { code?: string },
  );

beforeAll(async () => {
  await core.createNamespace({ body: { metadata: { name: NS, labels: { 'drill.dev/target': 'true' } } } });
  await core.createNamespace({ body: { metadata: { name: UNLABELLED } } });
  k8s = await provision(NS);
  ctx = {
    runId: 'steps-test',
    scenario: loaded.scenario,
    clock,
    recorder,
    signal: abort.signal,
    teardown,
    k8s,
    has: (part: string) => part === 'k8s',
  } as unknown as DrillContext;
}, 180_000);

afterAll(async () => {
  await teardown.runAll();
  for (const name of [NS, UNLABELLED]) await core.deleteNamespace({ name }).catch(() => undefined);
});

describe('provisioning into someone else\'s cluster (provider kubeconfig)', () => {
  it('refuses an unlabelled namespace before creating anything in it (exit 2)', async () => {
    const stack = new TeardownStack();
    const error = await failure(provision(UNLABELLED, stack));
    await stack.runAll();
    expect(error).toBeInstanceOf(InputError);
    expect(error).toMatchObject({ code: 'NOT_A_DRILL_TARGET', message: expect.stringMatching(/not labelled drill.dev\/target=true.*Nothing was touched/) });
    expect((await core.listNamespacedConfigMap({ namespace: UNLABELLED })).items.filter((c) => c.metadata?.name !== 'kube-root-ca.crt')).toEqual([]);
  });

  it('deployed the system under drill, available, into the labelled namespace', async () => {
    expect(k8s).toMatchObject({ provider: 'kubeconfig', namespace: NS, ownsNamespace: false });
    const api = await podsOf('app=truststream-api,version=blue');
    expect(api.filter(isReady)).toHaveLength(3);
    expect(recorder.journal.components).toMatchObject({ kubernetes: 'v1.37.2', kubernetesProvider: 'kubeconfig', kubernetesNamespace: NS });
  });

  it('refuses node faults: the nodes are shared by every namespace of a cluster it did not create', async () => {
    const error = await failure(fault({ type: 'k8s-node-failure' }));
    expect(error).toMatchObject({ code: 'NOT_A_DRILL_TARGET', message: expect.stringMatching(/acts on nodes/) });
    expect((await core.listNode()).items.every((n) => n.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True')).toBe(true);
  });
});

describe('faults and runbook steps on the real control plane', () => {
  it('k8s-ready probe: passes at full capacity, fails naming the count below it', async () => {
    const probe = (target: { deployment: string } | { endpoints: string }, min: number) => new K8sReadyProbe('p', () => k8s, target, min, 100, 1000, true);
    await probe({ endpoints: 'truststream-api' }, 3).check();
    await probe({ deployment: 'truststream-worker' }, 2).check();
    await expect(probe({ endpoints: 'truststream-api' }, 4).check()).rejects.toThrow('service truststream-api: 3 ready endpoints, fewer than 4');
    await expect(probe({ deployment: 'truststream-worker' }, 3).check()).rejects.toThrow('deployment truststream-worker: 2 available replicas, fewer than 3');
  });

  it('bad release: pods of the new revision run and never become ready; its handle restores the template', async () => {
    // TrustStram 4.4.1 exits at start (sut/truststream's release catalogue): a real crash loop.
    const handle = await fault({ type: 'k8s-bad-release', deployments: ['truststream-worker'], version: '4.4.1' });
    expect(handle.details).toEqual({ version: '4.4.1', deployments: [{ name: 'truststream-worker', images: ['drill.local/truststream:4.4.1'] }] });
    const crashLooping = await waitUntil(
      'a worker pod of the new release in CrashLoopBackOff',
      async () => {
        const pods = (await podsOf('app=truststream-worker,app.kubernetes.io/version=4.4.1')).filter((p) => {
          const c = p.status?.containerStatuses?.[0];
          return c?.state?.waiting?.reason === 'CrashLoopBackOff' && (c.restartCount ?? 0) >= 1;
        });
        return pods.length > 0 ? pods : undefined;
      },
      120_000,
    );
    // Its container really ran and exited (the kubelet restarts it), and it was never ready.
    for (const p of crashLooping) expect(p.status?.containerStatuses?.[0]?.lastState?.terminated?.exitCode).toBe(1);
    for (const p of await podsOf('app=truststream-worker,app.kubernetes.io/version=4.4.1')) expect(isReady(p)).toBe(false);
    await handle[Symbol.asyncDispose]();
    await step({ step: 'k8s-rollout-status', deployments: ['truststream-worker'], timeout: '120s' });
    expect((await podsOf('app=truststream-worker')).map((p) => p.spec?.containers[0]?.image)).toEqual(['drill.local/truststream:4.4.0', 'drill.local/truststream:4.4.0']);
  });

  it('bad release that fails part-way (second deployment missing): the first is reverted, the error passed on', async () => {
    const template = async () => (await k8s.api.apps.readNamespacedDeployment({ name: 'truststream-worker', namespace: NS })).spec!.template;
    const before = await template();
    const error = await failure(fault({ type: 'k8s-bad-release', deployments: ['truststream-worker', 'truststream-nowhere'], version: '7.7.7' }));
    expect(error).toBeInstanceOf(InputError);
    expect(error).toMatchObject({ code: 'DEPLOYMENT_NOT_FOUND' });
    const after = await template();
    expect(after.metadata?.labels?.['drill.dev/broken']).toBeUndefined();
    expect(after.spec?.containers.map((c) => c.image)).toEqual(before.spec?.containers.map((c) => c.image));
    await step({ step: 'k8s-rollout-status', deployments: ['truststream-worker'], timeout: '120s' });
  });

  it('rollout undo: to the previous revision, to a named one, skipped when already there, refused without history', async () => {
    // Two bad releases in a row: 4.4.1 crash-loops, 4.4.2 never passes readiness (schema mismatch).
    await fault({ type: 'k8s-bad-release', deployments: ['truststream-scheduler'], version: '4.4.1' });
    await fault({ type: 'k8s-bad-release', deployments: ['truststream-scheduler'], version: '4.4.2' });
    const back = await step({ step: 'k8s-rollout-undo', deployments: ['truststream-scheduler'] });
    expect(back.deployments).toEqual([{ deployment: 'truststream-scheduler', from: 3, to: 2, changeCause: 'TrustStram 4.4.1', images: ['drill.local/truststream:4.4.1'] }]);
    // Still broken: the step only promises the template, rollout status says the rest.
    const status = await failure(step({ step: 'k8s-rollout-status', deployments: ['truststream-scheduler'], timeout: '3s' }));
    expect(status).toBeInstanceOf(StepFailedError);
    expect(status).toMatchObject({ code: 'ROLLOUT_NOT_COMPLETE', message: expect.stringMatching(/0 of 1 updated replicas are available/) });

    const toFirst = await step({ step: 'k8s-rollout-undo', deployments: ['truststream-scheduler'], toRevision: 1 });
    expect(toFirst.deployments).toMatchObject([{ from: 4, to: 1, changeCause: 'TrustStram 4.4.0', images: ['drill.local/truststream:4.4.0'] }]);
    await step({ step: 'k8s-rollout-status', deployments: ['truststream-scheduler'], timeout: '120s' });
    const again = await step({ step: 'k8s-rollout-undo', deployments: ['truststream-scheduler'], toRevision: 5 });
    expect(again.deployments).toEqual([{ deployment: 'truststream-scheduler', skipped: 'skipped rollback (current template already matches revision 5)', images: ['drill.local/truststream:4.4.0'] }]);

    const none = await failure(step({ step: 'k8s-rollout-undo', deployments: ['truststream-api-green'] }));
    expect(none).toMatchObject({ code: 'NO_ROLLOUT_HISTORY', message: 'deployment "truststream-api-green" has only revision 1: there is no previous revision to roll back to' });
  });

  it('blue-green switch: the Service\'s endpoints become the green pods; a colour with no pods fails the step', async () => {
    const out = await step({ step: 'k8s-blue-green-switch', to: 'green', timeout: '60s' });
    const green = (await podsOf('version=green')).map((p) => p.metadata!.name!).sort();
    expect(out).toMatchObject({ selectorBefore: { app: 'truststream-api', version: 'blue' }, selectorAfter: { app: 'truststream-api', version: 'green' }, readyEndpoints: green });
    await step({ step: 'k8s-blue-green-switch', to: 'blue', timeout: '60s' });
    const error = await failure(step({ step: 'k8s-blue-green-switch', to: 'purple', timeout: '2s' }));
    expect(error).toMatchObject({ code: 'SWITCH_NOT_EFFECTIVE', message: expect.stringMatching(/no pod of that colour is ready/) });
    await step({ step: 'k8s-blue-green-switch', to: 'blue', timeout: '60s' });
  });

  it('read-only mode: configmap patched, readers restarted; the secret patched, its value kept out of the journal', async () => {
    const cm = await step({ step: 'k8s-configmap-patch', data: { READ_ONLY_MODE: 'true' } });
    expect(cm).toEqual({ configMap: 'truststream-config', previous: { READ_ONLY_MODE: 'false' }, set: { READ_ONLY_MODE: 'true' } });
    const before = (await podsOf('app=truststream-reader')).map((p) => p.metadata!.name);
    const restart = await step({ step: 'k8s-rollout-restart', deployments: ['truststream-reader'], timeout: '120s' });
    const after = await podsOf('app=truststream-reader');
    expect(after.map((p) => p.metadata!.name).filter((n) => before.includes(n))).toEqual([]);
    const restartedAt = (restart.restarted as Array<{ restartedAt: string }>)[0]!.restartedAt;
    for (const p of after) expect(p.metadata?.annotations?.['kubectl.kubernetes.io/restartedAt']).toBe(restartedAt);

    // A URL the restarted API pods really connect with (they must pass readiness on /health):
    // the shared database's, whose password is the secret to keep out of the journal.
    const url = shared.databaseUrl;
    const password = decodeURIComponent(new URL(url).password);
    expect(password.length).toBeGreaterThan(8);
    const out = await step({ step: 'k8s-secret-patch', value: { value: url }, restart: ['truststream-api'], timeout: '120s' });
    const secret = await core.readNamespacedSecret({ name: 'truststream-db-credentials', namespace: NS });
    expect(Buffer.from(secret.data!.DATABASE_URL!, 'base64').toString()).toBe(url);
    expect(out.value).toBe(`[REDACTED] (${url.length} characters)`);
    expect(JSON.stringify(out) + JSON.stringify(recorder.journal.events)).not.toContain(password);
  });

  it('scale: to zero leaves no pod (the runbook\'s "stop write operations"), and back', async () => {
    expect(await step({ step: 'k8s-scale', deployment: 'truststream-api-green', replicas: 0, timeout: '60s' })).toMatchObject({ from: 3, to: 0 });
    expect(await podsOf('version=green')).toEqual([]);
    await step({ step: 'k8s-scale', deployment: 'truststream-api-green', replicas: 3, timeout: '120s' });
    expect((await podsOf('version=green')).filter(isReady)).toHaveLength(3);
  });

  it('scale-to-zero fault: in effect with no pod left, reverted by its handle', async () => {
    const handle = await fault({ type: 'k8s-scale-to-zero', deployment: 'truststream-reader' });
    expect(handle.details).toEqual({ deployment: 'truststream-reader', replicasBefore: 2 });
    expect(await podsOf('app=truststream-reader')).toEqual([]);
    await handle[Symbol.asyncDispose]();
    await step({ step: 'k8s-rollout-status', deployments: ['truststream-reader'], timeout: '120s' });
  });

  it('pod kill: the chosen pods are gone when it returns and their ReplicaSet replaces them', async () => {
    const before = (await podsOf('app=truststream-api,version=blue')).map((p) => p.metadata!.name!);
    const handle = await fault({ type: 'k8s-pod-kill', selector: 'app=truststream-api,version=blue', kill: { percent: 50 } });
    const killed = (handle.details.killed as Array<{ name: string }>).map((k) => k.name);
    expect(killed).toHaveLength(2);
    expect(before).toEqual(expect.arrayContaining(killed));
    const now = (await core.listNamespacedPod({ namespace: NS, labelSelector: 'app=truststream-api,version=blue' })).items.map((p) => p.metadata!.name!);
    expect(now.filter((n) => killed.includes(n))).toEqual([]);
    await step({ step: 'k8s-rollout-status', deployments: ['truststream-api'], timeout: '120s' });
    const none = await failure(fault({ type: 'k8s-pod-kill', selector: 'app=nothing-here' }));
    expect(none).toMatchObject({ code: 'NO_PODS_MATCH' });
  });

  it('incident assessment: pods not running, rollout history, and the decision-matrix reading', async () => {
    await fault({ type: 'k8s-bad-release', deployments: ['truststream-api'], version: '4.4.1' });
    // A real container takes its time to start, exit and be backed off: assessed once it has.
    await waitUntil(
      'an API pod of 4.4.1 in CrashLoopBackOff',
      async () =>
        (await podsOf('app=truststream-api,app.kubernetes.io/version=4.4.1')).find((p) => p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'CrashLoopBackOff'),
      120_000,
    );
    const out = await step({ step: 'k8s-incident-assessment', deployments: ['truststream-api', 'truststream-scheduler'] });
    expect(out).toMatchObject({ namespace: NS, impact: 'partial outage', degraded: ['truststream-api'], down: [] });
    const api = (out.deployments as Array<{ name: string; history: Array<{ changeCause: string }> }>)[0]!;
    // Revision 2 is the restart after the secret patch above: a new revision with the same change-cause.
    expect(api.history.map((h) => h.changeCause)).toEqual(['TrustStram 4.4.0', 'TrustStram 4.4.0', 'TrustStram 4.4.1']);
    expect(out.notRunning).toEqual(expect.arrayContaining([expect.objectContaining({ reason: 'CrashLoopBackOff', phase: 'Running', ready: false })]));
    await step({ step: 'k8s-rollout-undo', deployments: ['truststream-api'] });
    await step({ step: 'k8s-rollout-status', deployments: ['truststream-api'], timeout: '120s' });
  });
});

describe('teardown in someone else\'s namespace', () => {
  it('removes what the drill deployed and leaves the namespace', async () => {
    expect(await teardown.runAll()).toEqual([]);
    const apps = loadKubeConfig(shared.kubeconfigPath, shared.context).makeApiClient(AppsV1Api);
    expect((await apps.listNamespacedDeployment({ namespace: NS })).items).toEqual([]);
    expect((await core.listNamespacedService({ namespace: NS })).items).toEqual([]);
    expect((await core.readNamespace({ name: NS })).metadata?.labels?.['drill.dev/target']).toBe('true');
  });
});
