import { CoreV1Api } from '@kubernetes/client-node';
import { mkdtempSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import { assessRevocation } from '../../src/assertions/index.js';
import type { DrillContext, FaultHandle } from '../../src/engine/drill-context.js';
import { JournalRecorder } from '../../src/engine/journal-recorder.js';
import { readResources, ResourceLedger } from '../../src/engine/resource-ledger.js';
import { TeardownStack } from '../../src/engine/teardown-stack.js';
import { credentialFingerprint, injectCredentialLeak } from '../../src/injectors/credential-leak.js';
import { revokeServiceAccountTokens } from '../../src/recovery/revoke-service-account-tokens.js';
import { writeRunArtifacts } from '../../src/report/write-run-artifacts.js';
import { loadScenarioFile } from '../../src/scenario/loader.js';
import { fault as faultSchema } from '../../src/scenario/schema.js';
import { loadKubeConfig } from '../../src/targets/kubernetes/cluster-client.js';
import { kubeApi } from '../../src/targets/kubernetes/kube-api.js';
import { reapTokenSecret } from '../../src/targets/kubernetes/reap-token-secret.js';
import { KubernetesTarget } from '../../src/targets/kubernetes/kubernetes-target.js';
import type { KubernetesCluster } from '../../src/targets/kubernetes/types.js';
import { scanFiles } from '../e2e/secret-scan.js';
import { capturingRecorder } from '../support/capturing-recorder.js';
import { waitUntil } from './helpers.js';
import { recordedTestDir, removeRecordedTestDir } from '../support/recorded-test-dir.js';

// credential-leak k8s-service-account-token and the Kubernetes part of revoke-all-tokens on the
// shared control plane (a real kube-apiserver, controller manager and token controller): the
// tokens are really issued, really used from the attacker's own client, really revoked. The
// namespace is a labelled drill target of a cluster the drill did not create, so the label check
// runs for real.
const shared = inject('k8s');
const kc = loadKubeConfig(shared.kubeconfigPath, shared.context);
const core = kc.makeApiClient(CoreV1Api);
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
const work = recordedTestDir('drill-k8s-sa-token-');
const namespaces: string[] = [];

afterAll(async () => {
  for (const name of namespaces) await core.deleteNamespace({ name }).catch(() => undefined);
  removeRecordedTestDir(work);
});

interface Drill {
  ctx: DrillContext;
  recorder: JournalRecorder;
  teardown: TeardownStack;
  secrets: Map<string, string>;
  namespace: string;
  ledgerFile: string;
}

async function drill(runId: string, labelled = true): Promise<Drill> {
  const namespace = `drill-${runId}`;
  await core.createNamespace({ body: { metadata: { name: namespace, labels: labelled ? { 'drill.dev/target': 'true' } : {} } } });
  namespaces.push(namespace);
  // Tokens are issued for an existing account only: the controller creates `default` shortly after the namespace.
  await waitUntil('the default service account', () => core.readNamespacedServiceAccount({ name: 'default', namespace }).then(() => true), 30_000);
  const loaded = await loadScenarioFile('drills/scenarios/breach-leaked-service-account-token.yaml');
  const { recorder, secrets } = capturingRecorder(runId, loaded);
  const teardown = new TeardownStack();
  const k8s = new KubernetesTarget(cluster, 'kubeconfig', namespace, false, api);
  const ledgerFile = path.join(work, `${runId}.jsonl`);
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
  return { ctx, recorder, teardown, secrets, namespace, ledgerFile };
}

let handle: FaultHandle | undefined;
afterEach(async () => {
  await handle?.[Symbol.asyncDispose]();
  handle = undefined;
});

const leak = (tokens: Array<'bound' | 'legacy'> = ['bound', 'legacy']) =>
  faultSchema.parse({ type: 'credential-leak', kind: 'k8s-service-account-token', tokens, attacker: { interval: '200ms', maxDuration: '2m', proveWithin: '30s' } }) as Extract<
    ReturnType<typeof faultSchema.parse>,
    { type: 'credential-leak' }
  >;

/** Until the attacker sent `n` more uses of `credential` after `after` (a loaded machine may be slow: no fixed sleep). */
async function usesAfter(recorder: JournalRecorder, credential: string, after: number, n: number, timeoutMs = 60_000) {
  return waitUntil(
    `${n} attacker uses of ${credential}`,
    async () => {
      const uses = (recorder.journal.attacker?.attempts ?? []).filter((a) => a.credential === credential && a.t > after);
      return uses.length >= n ? uses : undefined;
    },
    timeoutMs,
  );
}

describe('credential-leak k8s-service-account-token and revoke-all-tokens on Kubernetes (shared control plane)', () => {
  it('bound and legacy tokens are used against the kube-apiserver until revoked; the ~10 s token cache shows in time-to-revoke; no token in any file', async ({ annotate }) => {
    const { ctx, recorder, teardown, secrets, namespace } = await drill('sa-token-revoke');
    try {
      handle = await injectCredentialLeak(ctx, leak());
      const credentials = recorder.journal.attacker!.credentials;
      expect(credentials.map((c) => c.name)).toEqual([expect.stringMatching(/^drill-token-binding-[0-9a-f]{8}$/), expect.stringMatching(/^drill-legacy-token-[0-9a-f]{8}$/)]);
      const bound = secrets.get(`the leaked bound service-account token of ${namespace}/default`)!;
      const legacy = secrets.get(`the leaked legacy service-account token of ${namespace}/default`)!;
      expect(credentials.map((c) => c.fingerprint)).toEqual([credentialFingerprint(bound), credentialFingerprint(legacy)]);
      // Real tokens of the account: JWTs; the bound one names its Secret, the legacy one is the Secret's.
      const claims = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
      expect(claims(bound)).toMatchObject({ sub: `system:serviceaccount:${namespace}:default`, 'kubernetes.io': { secret: { name: credentials[0]!.name } } });
      expect(claims(legacy)).toMatchObject({ sub: `system:serviceaccount:${namespace}:default`, 'kubernetes.io/serviceaccount/secret.name': credentials[1]!.name });
      // Every attempt allowed so far, as the account, with the pods list refused to it (no RBAC): authenticated, not authorized.
      for (const c of credentials) await usesAfter(recorder, c.fingerprint, 0, 2);
      const first = recorder.journal.attacker!.attempts[0]!;
      expect(first).toMatchObject({ outcome: 'allowed', status: 201, endpoint: expect.stringMatching(/^kube-apiserver 127\.0\.0\.1:\d+$/), detail: `list pods in ${namespace}: HTTP 403 (authenticated, not authorized)` });
      expect(handle.inEffectAt).toBe(Math.min(...credentials.map((c) => recorder.journal.attacker!.attempts.find((a) => a.credential === c.fingerprint)!.t)));
      recorder.markAt('tFault', handle.inEffectAt);

      const uidBefore = (await core.readNamespacedServiceAccount({ name: 'default', namespace })).metadata!.uid;
      recorder.mark('tRecoveryStart');
      const output = await recorder.activity('step', 'revoke-all-tokens', 'Revoke all tokens', async () => ({ ...(await revokeServiceAccountTokens(ctx, { serviceAccountTokens: 'all' })) }));
      const started = recorder.journal.steps.at(-1)!.start.t;
      expect(output.deletedSecrets.map((s) => s.kind).sort()).toEqual(['bound', 'legacy']);
      expect(output.recreated).toEqual([{ serviceAccount: 'default', oldUid: uidBefore, newUid: expect.any(String) }]);
      expect(output.recreated[0]!.newUid).not.toBe(uidBefore);
      for (const c of credentials) await core.readNamespacedSecret({ name: c.name, namespace }).then(() => expect.fail(`${c.name} still there`), () => undefined);
      recorder.mark('tRecoveryEnd');

      // Both refused (401) at last, and every later use too: wait past the apiserver's token cache.
      for (const c of credentials) {
        await waitUntil(`${c.name} refused`, async () => (recorder.journal.attacker!.attempts.some((a) => a.credential === c.fingerprint && a.outcome === 'rejected') ? true : undefined), 60_000);
        const after = await usesAfter(recorder, c.fingerprint, recorder.journal.marks.tRecoveryEnd!.t, 3);
        expect(after.at(-1)).toMatchObject({ outcome: 'rejected', status: 401 });
      }
      const allowedAfterRevoke = recorder.journal.attacker!.attempts.filter((a) => a.outcome === 'allowed' && a.t > started);
      const { verdict, measurements } = assessRevocation(recorder.redactedJournal());
      expect(verdict.status, verdict.message).toBe('passed');
      // Measured, not assumed: the slowest token decides, from its first refusal's answer back to its
      // last allowed use (the apiserver's token cache keeps a deleted token working up to ~10 s: its
      // share is not subtracted).
      const judged = credentials.map((c) => {
        const uses = recorder.journal.attacker!.attempts.filter((a) => a.credential === c.fingerprint);
        return { refusal: uses.find((a) => a.outcome === 'rejected')!, lastAllowed: uses.filter((a) => a.outcome === 'allowed').at(-1)! };
      });
      const slowest = judged.reduce((a, b) => (b.refusal.tEnd > a.refusal.tEnd ? b : a));
      expect(measurements.timeToRevokeMs).toBeCloseTo(slowest.refusal.tEnd - started, 6);
      expect(measurements.timeToRevokeLowerBoundMs).toBeCloseTo(Math.max(0, slowest.lastAllowed.t - started), 6);
      expect(measurements.timeToRevokeMs).toBeGreaterThan(measurements.timeToRevokeLowerBoundMs!);
      await annotate(`time-to-revoke on the shared control plane: ${verdict.message}; ${allowedAfterRevoke.length} use(s) allowed after the revoke step started`);

      await handle[Symbol.asyncDispose]();
      handle = undefined;
      expect(await teardown.runAll()).toEqual([]);

      const runDir = mkdtempSync(path.join(work, 'run-'));
      await writeRunArtifacts(runDir, recorder.journal, recorder.secrets);
      const scan = scanFiles(runDir, [bound, legacy]);
      expect(scan.files.sort()).toEqual(['incident-report.md', 'journal.json', 'timeline.png', 'timeline.svg']);
      expect(scan.hits).toEqual([]);
      // Negative control of the scan: the token written without the run's Redactor is found.
      const slip = mkdtempSync(path.join(work, 'slip-'));
      await writeRunArtifacts(slip, { ...recorder.journal, events: [{ t: 0, wall: '', kind: 'oops', message: legacy }] });
      expect(scanFiles(slip, [legacy]).hits.map((h) => h.file)).toEqual(['journal.json']);
    } finally {
      await teardown.runAll();
    }
  });

  it('negative control: bound-only revocation leaves the legacy token working, and revocation fails naming it', async () => {
    const { ctx, recorder, teardown, namespace } = await drill('sa-token-bound-only');
    try {
      handle = await injectCredentialLeak(ctx, leak());
      recorder.markAt('tFault', handle.inEffectAt);
      const [boundCredential, legacyCredential] = recorder.journal.attacker!.credentials;
      recorder.mark('tRecoveryStart');
      const output = await recorder.activity('step', 'revoke-all-tokens', 'Revoke the bound token only', async () => ({ ...(await revokeServiceAccountTokens(ctx, { serviceAccountTokens: 'bound-only' })) }));
      expect(output).toEqual({ deletedSecrets: [{ name: boundCredential!.name, kind: 'bound', serviceAccount: 'default' }], recreated: [] });
      await core.readNamespacedSecret({ name: legacyCredential!.name, namespace });
      recorder.mark('tRecoveryEnd');
      await waitUntil('the bound token refused', async () => (recorder.journal.attacker!.attempts.some((a) => a.credential === boundCredential!.fingerprint && a.outcome === 'rejected') ? true : undefined), 60_000);
      // Past the token cache: the legacy token is still allowed, as itself.
      const legacyAfter = await usesAfter(recorder, legacyCredential!.fingerprint, recorder.journal.marks.tRecoveryEnd!.t + 12_000, 2);
      expect(legacyAfter.every((a) => a.outcome === 'allowed')).toBe(true);
      const { verdict } = assessRevocation(recorder.redactedJournal());
      expect(verdict.status).toBe('failed');
      expect(verdict.message).toContain(`k8s-service-account-token ${legacyCredential!.name} (${legacyCredential!.fingerprint}) was never revoked`);
      expect(verdict.message).not.toContain(`${boundCredential!.name} (`);
    } finally {
      await handle?.[Symbol.asyncDispose]();
      handle = undefined;
      await teardown.runAll();
    }
  });

  it('after kill -9: the ledger names both token Secrets before they exist; the reaper deletes them by the run label, and leaves a Secret of another run', async () => {
    const { ctx, namespace, ledgerFile } = await drill('sa-token-killed');
    handle = await injectCredentialLeak(ctx, leak());
    const entries = readResources(ledgerFile).filter((r) => r.kind === 'k8s-token-secret');
    expect(entries.map((r) => r.name)).toEqual([expect.stringMatching(/^drill-token-binding-/), expect.stringMatching(/^drill-legacy-token-/)]);
    // The drill "dies" here: its handle never runs. Someone else's Secret of the same shape stays.
    await core.createNamespacedSecret({ namespace, body: { metadata: { name: 'not-this-run', labels: { 'drill.dev/run': 'another-run' } }, type: 'Opaque' } });
    const outcomes = [];
    for (const entry of entries) outcomes.push(await reapTokenSecret(entry));
    expect(outcomes).toEqual(entries.map((r) => ({ state: 'removed', what: `token Secret ${namespace}/${r.name}` })));
    expect(await reapTokenSecret({ ...entries[0]!, name: 'not-this-run' })).toEqual({ state: 'absent' });
    expect((await core.listNamespacedSecret({ namespace })).items.map((s) => s.metadata?.name)).toEqual(['not-this-run']);
    // Reaping again finds nothing.
    expect(await reapTokenSecret(entries[1]!)).toEqual({ state: 'absent' });
  });

  it('a namespace not labelled drill.dev/target=true is refused before any token Secret is created', async () => {
    const { ctx, namespace } = await drill('sa-token-unlabelled', false);
    await expect(injectCredentialLeak(ctx, leak())).rejects.toMatchObject({ code: 'NOT_A_DRILL_TARGET' });
    expect((await core.listNamespacedSecret({ namespace })).items.map((s) => s.metadata?.name)).toEqual([]);
    await expect(revokeServiceAccountTokens(ctx, { serviceAccountTokens: 'all' })).rejects.toMatchObject({ code: 'NOT_A_DRILL_TARGET' });
  });
});
