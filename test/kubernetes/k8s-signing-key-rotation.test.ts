import { CoreV1Api } from '@kubernetes/client-node';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { DrillContext, FaultHandle } from '../../src/engine/drill-context.js';
import { EnvironmentError } from '../../src/engine/errors.js';
import type { JournalRecorder } from '../../src/engine/journal-recorder.js';
import { reapResources } from '../../src/engine/reaper.js';
import { readResources, ResourceLedger } from '../../src/engine/resource-ledger.js';
import { TeardownStack } from '../../src/engine/teardown-stack.js';
import { injectCredentialLeak } from '../../src/injectors/credential-leak.js';
import { revokeServiceAccountTokens } from '../../src/recovery/revoke-service-account-tokens.js';
import { loadScenarioFile } from '../../src/scenario/loader.js';
import { fault as faultSchema } from '../../src/scenario/schema.js';
import { loadKubeConfig } from '../../src/targets/kubernetes/cluster-client.js';
import { kubeApi } from '../../src/targets/kubernetes/kube-api.js';
import { KubernetesTarget, type KubernetesProviderName } from '../../src/targets/kubernetes/kubernetes-target.js';
import { LocalControlPlane } from '../../src/targets/kubernetes/local-control-plane.js';
import { PAUSE_IMAGE } from '../../src/targets/images/pause-image.js';
import { buildNodeImages } from '../../src/targets/kubernetes/real-nodes/node-images.js';
import { recordedProcessAlive } from '../../src/targets/kubernetes/recorded-process.js';
import { issueLegacyToken, TOKEN_BINDING_LABEL } from '../../src/targets/kubernetes/service-account-tokens.js';
import type { KubernetesCluster } from '../../src/targets/kubernetes/types.js';
import { kubeApiTargetOf, KubeApiTokenUse } from '../../src/workload/attacks/kube-api-token-use.js';
import { failedChecks, filesUnder, leftovers, readJournal, runCli, runDirFrom, verdictOf } from '../e2e/helpers.js';
import { capturingRecorder } from '../support/capturing-recorder.js';
import { waitUntil } from './helpers.js';
import { recordedTestDir, removeRecordedTestDir } from '../support/recorded-test-dir.js';

// revoke-all-tokens rotateSigningKey restarts kube-apiserver: on a control plane of its own (one
// fake node), never the shared one, whose apiserver every other file of this project uses. The
// shared one is only used to prove the step refuses there and touches nothing.
const shared = inject('k8s');
const work = recordedTestDir('drill-k8s-sa-key-');
afterAll(() => removeRecordedTestDir(work));

const leak = faultSchema.parse({ type: 'credential-leak', kind: 'k8s-service-account-token', tokens: ['bound', 'legacy'], attacker: { interval: '200ms', maxDuration: '3m', proveWithin: '30s' } }) as Extract<
  ReturnType<typeof faultSchema.parse>,
  { type: 'credential-leak' }
>;

async function drillOn(cluster: KubernetesCluster, provider: KubernetesProviderName, runId: string, ledgerFile: string) {
  const kc = cluster.connect();
  const core = kc.makeApiClient(CoreV1Api);
  const namespace = `drill-${runId}`;
  await core.createNamespace({ body: { metadata: { name: namespace, labels: { 'drill.dev/target': 'true' } } } });
  await waitUntil('the default service account', () => core.readNamespacedServiceAccount({ name: 'default', namespace }).then(() => true), 60_000);
  const loaded = await loadScenarioFile('drills/scenarios/breach-leaked-service-account-token.yaml');
  const { recorder, secrets } = capturingRecorder(runId, loaded);
  const teardown = new TeardownStack();
  const k8s = new KubernetesTarget(cluster, provider, namespace, false, kubeApi(kc));
  const ctx = {
    runId,
    scenario: loaded.scenario,
    clock: recorder.clock,
    recorder,
    signal: new AbortController().signal,
    teardown,
    ledger: new ResourceLedger(ledgerFile),
    k8s,
    has: (part: string) => part === 'k8s',
  } as unknown as DrillContext;
  return { ctx, recorder, teardown, secrets, namespace, core, kc };
}

/** One use of `token` as its thief would (SelfSubjectReview from a client holding only the token). */
const useOf = (kc: ReturnType<KubernetesCluster['connect']>, namespace: string, account: string, token: string) =>
  new KubeApiTokenUse(kubeApiTargetOf(kc, namespace, account), token, 5_000).use(new AbortController().signal);

async function tokenOf(core: CoreV1Api, namespace: string, account: string): Promise<string> {
  const request = await core.createNamespacedServiceAccountToken({ name: account, namespace, body: { spec: { audiences: [], expirationSeconds: 3600 } } });
  return request.status!.token!;
}

const rejectedAttempts = (recorder: JournalRecorder, fingerprint: string) => recorder.journal.attacker!.attempts.filter((a) => a.credential === fingerprint && a.outcome === 'rejected');

describe('revoke-all-tokens rotateSigningKey (a control plane of its own)', () => {
  it('without rotation a token of an account the revocation leaves keeps working; with it that token gets 401 at once, a fresh one works, the restarts are journaled, and the reaper leaves nothing', async ({ annotate }) => {
    const ledgerFile = path.join(work, 'own.jsonl');
    const cpLedger = new ResourceLedger(ledgerFile);
    const cp = await LocalControlPlane.start({ runId: 'sa-key-rotation', ledger: cpLedger, nodes: 1, kubeconfigPath: path.join(work, 'own.kubeconfig') });
    let handle: FaultHandle | undefined;
    const { ctx, recorder, teardown, namespace, core, kc } = await drillOn(cp, 'local', 'sa-key', ledgerFile);
    try {
      // The leaked tokens of the service's account (bound + legacy, an attacker each), and a token of
      // another account of the namespace bound to nothing the revocation deletes: it survives it.
      handle = await injectCredentialLeak(ctx, leak);
      recorder.markAt('tFault', handle.inEffectAt);
      await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: 'bystander' } } });
      const survivor = await tokenOf(core, namespace, 'bystander');
      recorder.secrets.register(survivor, 'the bystander token');
      expect((await useOf(kc, namespace, 'bystander', survivor)).outcome).toBe('allowed');

      // Negative control: the revocation without rotation refuses the leaked tokens, not the survivor.
      const plain = await revokeServiceAccountTokens(ctx, { serviceAccountTokens: 'all' });
      expect(plain.signingKey).toBeUndefined();
      const credentials = recorder.journal.attacker!.credentials;
      for (const c of credentials) await waitUntil(`${c.name} refused`, async () => (rejectedAttempts(recorder, c.fingerprint).length > 0 ? true : undefined), 60_000);
      expect(await useOf(kc, namespace, 'bystander', survivor)).toMatchObject({ outcome: 'allowed', status: 201 });
      const apiserverBefore = cp.component('kube-apiserver')!.pid;
      const kcmBefore = cp.component('kube-controller-manager')!.pid;

      // The rotation: the survivor is refused, with 401, from the first use after the restart.
      const stepStart = recorder.clock.now();
      const rotated = await revokeServiceAccountTokens(ctx, { serviceAccountTokens: 'all', rotateSigningKey: true });
      const key = rotated.signingKey!;
      const afterRotation = await useOf(kc, namespace, 'bystander', survivor);
      expect(afterRotation).toMatchObject({ outcome: 'rejected', status: 401 });
      expect(key).toMatchObject({
        generation: 2,
        publicKeyFile: 'sa-2.pub',
        apiserver: { oldPid: apiserverBefore, newPid: cp.component('kube-apiserver')!.pid },
        controllerManager: { oldPid: kcmBefore, newPid: cp.component('kube-controller-manager')!.pid },
        tokenIssuedBefore: { before: 'allowed (HTTP 201)', after: 'rejected (HTTP 401)', allowedAfterReady: 0 },
        freshTokenUse: 'allowed (HTTP 201)',
      });
      expect(key.apiserver.stoppedBy).toMatch(/^(SIGTERM|SIGKILL after 3 s of SIGTERM)$/);
      expect(key.apiserver.newPid).not.toBe(apiserverBefore);
      expect(key.controllerManager.newPid).not.toBe(kcmBefore);
      expect(key.newKeyFingerprint).not.toBe(key.oldKeyFingerprint);
      // The outage as the journal has it: from "stopping" to "ready", no shorter than the control plane measured it.
      const at = (kind: string) => recorder.journal.events.find((e) => e.kind === kind && e.t >= stepStart)!.t;
      const outage = at('signing-key-apiserver-ready') - at('signing-key-apiserver-stopping');
      expect(at('signing-key-apiserver-stopped')).toBeGreaterThanOrEqual(at('signing-key-apiserver-stopping'));
      expect(at('signing-key-controller-manager-ready')).toBeGreaterThanOrEqual(at('signing-key-apiserver-ready'));
      expect(outage).toBeGreaterThan(0);
      expect(Math.abs(outage - key.apiserver.outageMs)).toBeLessThan(1_000);
      // New tokens work: a TokenRequest (apiserver's key) and a legacy Secret (the controller manager's).
      expect(await useOf(kc, namespace, 'bystander', await tokenOf(core, namespace, 'bystander'))).toMatchObject({ outcome: 'allowed', status: 201 });
      const legacy = await issueLegacyToken(ctx.k8s.api, namespace, 'bystander', { runId: 'sa-key', creating: () => undefined }, (v) => recorder.secrets.register(v, 'the new legacy token'), { timeoutMs: 60_000 });
      expect(await useOf(kc, namespace, 'bystander', legacy.value)).toMatchObject({ outcome: 'allowed', status: 201 });
      // The attacker, still trying, is refused on every use since the restart (none allowed after it).
      const ready = at('signing-key-apiserver-ready');
      expect(recorder.journal.attacker!.attempts.filter((a) => a.t > ready && a.outcome === 'allowed')).toEqual([]);
      await annotate(
        `apiserver unreachable ${key.apiserver.outageMs} ms (stop ${key.apiserver.stopMs} ms, ${key.apiserver.stoppedBy}), controller manager restarted in ${key.controllerManager.restartMs} ms; ` +
          `a token issued before: first refusal ${key.tokenIssuedBefore.firstRefusalAfterReadyMs} ms after /readyz`,
      );

      await handle[Symbol.asyncDispose]();
      handle = undefined;
      expect(await teardown.runAll()).toEqual([]);
      // Cleanup after kill -9: the reaper, from the ledger alone, stops the restarted components too.
      const recorded = readResources(ledgerFile).filter((r) => r.kind === 'process').map((r) => r.name);
      expect(recorded.filter((n) => n === 'kube-apiserver' || n === 'kube-controller-manager').sort()).toEqual(['kube-apiserver', 'kube-apiserver', 'kube-controller-manager', 'kube-controller-manager']);
      await reapResources(ledgerFile);
      const left = readResources(ledgerFile).flatMap((r) => {
        if (r.kind === 'process' && recordedProcessAlive(r.pid, r.match)) return [`process ${r.name}`];
        if (r.kind === 'temp-dir' && existsSync(r.path)) return [`dir ${r.path}`];
        return [];
      });
      expect(left).toEqual([]);
    } finally {
      await handle?.[Symbol.asyncDispose]();
      await teardown.runAll();
      await cp.dispose();
    }
  });

  it('pods keep their projected token after the rotation (the kubelet does not rewrite it on a 401): refused until the pod is recreated, a new pod\'s token works', async ({ annotate }) => {
    const ledgerFile = path.join(work, 'pods.jsonl');
    const cp = await LocalControlPlane.start({ runId: 'sa-key-pods', ledger: new ResourceLedger(ledgerFile), nodes: 0, realNodes: 1, nodeImages: await buildNodeImages(), kubeconfigPath: path.join(work, 'pods.kubeconfig') });
    try {
      const kc = cp.connect();
      const core = kc.makeApiClient(CoreV1Api);
      const namespace = 'pods';
      await core.createNamespace({ body: { metadata: { name: namespace } } });
      await waitUntil('the default service account', () => core.readNamespacedServiceAccount({ name: 'default', namespace }).then(() => true), 60_000);
      // A pod of the default account on the real node: the kubelet writes its projected token where the harness can read it.
      const podToken = async (name: string) => {
        await core.createNamespacedPod({ namespace, body: { metadata: { name }, spec: { containers: [{ name: 'c', image: PAUSE_IMAGE, imagePullPolicy: 'Never' }] } } });
        const uid = await waitUntil(`${name} running`, async () => {
          const pod = await core.readNamespacedPod({ name, namespace });
          return pod.status?.phase === 'Running' ? pod.metadata!.uid! : undefined;
        }, 180_000);
        // The kubelet's projected volumes are tmpfs mounts in the node's own mount namespace: read through its init's root.
        const node = cp.realNode(cp.realNodeNames[0]!)!;
        const volumes = path.join(`/proc/${node.sandboxInitPid}/root`, cp.root, 'nodes', node.name, 'kubelet', 'pods', uid, 'volumes', 'kubernetes.io~projected');
        const dir = readdirSync(volumes).find((d) => d.startsWith('kube-api-access-'))!;
        return () => readFileSync(path.join(volumes, dir, 'token'), 'utf8');
      };
      const tokenOfPod = await podToken('before');
      const written = tokenOfPod();
      expect(await useOf(kc, namespace, 'default', written)).toMatchObject({ outcome: 'allowed', status: 201 });

      const key = await cp.rotateServiceAccountSigningKey();
      expect(await useOf(kc, namespace, 'default', written)).toMatchObject({ outcome: 'rejected', status: 401 });
      // Watched for 15 s: the kubelet refreshes a projected token at 80 % of its lifetime, not on a 401.
      const watchedFrom = Date.now();
      while (Date.now() - watchedFrom < 15_000) {
        expect(tokenOfPod()).toBe(written);
        await new Promise((r) => setTimeout(r, 3_000));
      }
      expect(await useOf(kc, namespace, 'default', tokenOfPod())).toMatchObject({ outcome: 'rejected', status: 401 });
      // A pod created after the rotation (what a rollout does) gets a token of the new key.
      expect(await useOf(kc, namespace, 'default', (await podToken('after'))())).toMatchObject({ outcome: 'allowed', status: 201 });
      await annotate(`real node: apiserver out ${key.apiserver.outageMs} ms; the pod's projected token unchanged and refused 15 s after the rotation; a new pod's token allowed`);
    } finally {
      await cp.dispose();
    }
  });

  it('refuses (exit 3, SIGNING_KEY_NOT_OURS) on the shared control plane, before deleting anything, and its apiserver keeps running', async () => {
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
    // As `drill run` with DRILL_KUBECONFIG sees it: provider local, a cluster it was given.
    const { ctx, core, namespace } = await drillOn(cluster, 'local', 'sa-key-refused', path.join(work, 'refused.jsonl'));
    try {
      await core.createNamespacedSecret({ namespace, body: { metadata: { name: 'binding', labels: { [TOKEN_BINDING_LABEL]: 'default' } }, type: 'Opaque', data: {} } });
      const uid = (await core.readNamespacedServiceAccount({ name: 'default', namespace })).metadata!.uid;
      const error = await revokeServiceAccountTokens(ctx, { serviceAccountTokens: 'all', rotateSigningKey: true }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(EnvironmentError);
      expect(error).toMatchObject({ code: 'SIGNING_KEY_NOT_OURS', message: expect.stringMatching(/cluster "shared" \(kubeconfig, provider local\) was not started by this drill.*provider: local, without DRILL_KUBECONFIG\)\. Nothing was touched\.$/) });
      await core.readNamespacedSecret({ name: 'binding', namespace });
      expect((await core.readNamespacedServiceAccount({ name: 'default', namespace })).metadata!.uid).toBe(uid);
      const apiserver = shared.components.find((c) => c.name === 'kube-apiserver')!;
      expect(recordedProcessAlive(apiserver.pid, shared.root)).toBe(true);
    } finally {
      await core.deleteNamespace({ name: namespace }).catch(() => undefined);
    }
  });
});

describe('breach-signing-key-rotation through drill run', () => {
  const reportsDir = recordedTestDir('drill-k8s-sa-key-runs-');
  afterAll(() => removeRecordedTestDir(reportsDir));
  const run = async (env: Record<string, string>, file = 'test/fixtures/scenarios/breach-signing-key-rotation.yaml') => {
    const result = await runCli(['run', path.resolve(file), '--reports-dir', reportsDir], { env });
    const runDir = runDirFrom(result.stdout, reportsDir);
    return { code: result.code, output: result.stdout + result.stderr, journal: readJournal(runDir), runDir };
  };

  it('negative control: breach-unbound-token-survives-revocation (no rotation) fails on revocation only, naming the unbound token (exit 1)', async () => {
    const { code, output, journal, runDir } = await run({ DRILL_KUBECONFIG: shared.kubeconfigPath }, 'drills/scenarios/breach-unbound-token-survives-revocation.yaml');
    expect(code, output).toBe(1);
    expect(failedChecks(journal)).toEqual(['revocation']);
    const [token] = journal.attacker!.credentials;
    expect(token!.name).toMatch(/^drill-unbound-token-[0-9a-f]{8}$/);
    // Nothing for the revocation to find: no token Secret, no account recreated.
    expect(journal.steps.find((s) => s.name === 'revoke-all-tokens')!.output).toMatchObject({ kubernetes: { deletedSecrets: [], recreated: [] } });
    expect(verdictOf(journal, 'revocation')!.message).toMatch(new RegExp(`^k8s-service-account-token ${token!.name} \\(${token!.fingerprint}\\) was never revoked`));
    expect(leftovers(runDir)).toEqual([]);
  });

  it('passes on its own control plane: the leaked tokens refused, the apiserver restart and outage journaled, the service unaffected', async ({ annotate }) => {
    const { code, output, journal, runDir } = await run({ DRILL_KUBECONFIG: '' });
    expect(code, output).toBe(0);
    expect(journal.components.kubernetesProvider).toBe('local');
    // The same leak as the negative control: an unbound token, which only the rotation can void.
    expect(journal.attacker!.credentials.map((c) => c.name)).toEqual([expect.stringMatching(/^drill-unbound-token-/)]);
    const step = journal.steps.find((s) => s.name === 'revoke-all-tokens')!;
    expect(step.status).toBe('passed');
    const key = (step.output as { kubernetes: { signingKey: { generation: number; apiserver: { outageMs: number; stoppedBy: string }; tokenIssuedBefore: { after: string; firstRefusalAfterReadyMs: number }; freshTokenUse: string } } }).kubernetes.signingKey;
    expect(key).toMatchObject({ generation: 2, tokenIssuedBefore: { after: 'rejected (HTTP 401)' }, freshTokenUse: 'allowed (HTTP 201)' });
    const kinds = journal.events.map((e) => e.kind);
    for (const k of ['signing-key-apiserver-stopping', 'signing-key-apiserver-stopped', 'signing-key-apiserver-ready', 'signing-key-controller-manager-ready']) expect(kinds).toContain(k);
    expect(verdictOf(journal, 'revocation')!.status).toBe('passed');
    expect(verdictOf(journal, 'blast-radius')!.status).toBe('passed');
    expect(failedChecks(journal)).toEqual([]);
    const ready = journal.events.find((e) => e.kind === 'signing-key-apiserver-ready')!.t;
    expect(journal.attacker!.attempts.filter((a) => a.t > ready && a.outcome === 'allowed')).toEqual([]);
    await annotate(`${verdictOf(journal, 'revocation')!.message}; apiserver out ${key.apiserver.outageMs} ms (${key.apiserver.stoppedBy}); old token refused ${key.tokenIssuedBefore.firstRefusalAfterReadyMs} ms after /readyz`);
    // The leaked tokens and the step's own probe tokens are JWTs: none in any file of the run, nor in what the CLI printed.
    const jwt = /eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}|ZXlK[A-Za-z0-9+/]{40,}/;
    for (const file of filesUnder(runDir)) expect(readFileSync(file, 'latin1'), file).not.toMatch(jwt);
    expect(output).not.toMatch(jwt);
    expect(leftovers(runDir)).toEqual([]);
  });

  it('refuses at run time (exit 3, SIGNING_KEY_NOT_OURS) on the shared control plane DRILL_KUBECONFIG names, whose apiserver keeps running', async () => {
    const { code, output, journal } = await run({ DRILL_KUBECONFIG: shared.kubeconfigPath });
    expect(code, output).toBe(3);
    expect(output).toMatch(/ERROR: revoke-all-tokens rotateSigningKey: cluster "drill-local" \(kubeconfig, provider local\) was not started by this drill/);
    const step = journal.steps.find((s) => s.name === 'revoke-all-tokens')!;
    expect(step).toMatchObject({ status: 'error', error: { code: 'SIGNING_KEY_NOT_OURS', message: expect.stringMatching(/Nothing was touched\.$/) } });
    expect(step.output).toBeUndefined();
    const apiserver = shared.components.find((c) => c.name === 'kube-apiserver')!;
    expect(recordedProcessAlive(apiserver.pid, shared.root)).toBe(true);
  });
});
