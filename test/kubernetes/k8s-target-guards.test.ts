import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ApiextensionsV1Api, CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { exitCodeForError } from '../../src/cli/output.js';
import { startClock } from '../../src/engine/clock.js';
import { JournalRecorder } from '../../src/engine/journal-recorder.js';
import { provisionKubernetes } from '../../src/targets/kubernetes/provision-kubernetes.js';
import { ResourceLedger } from '../../src/engine/resource-ledger.js';
import { TeardownStack } from '../../src/engine/teardown-stack.js';
import { ScenarioValidationError } from '../../src/scenario/issues.js';
import { loadScenarioFile } from '../../src/scenario/loader.js';
import { loadKubeConfig } from '../../src/targets/kubernetes/cluster-client.js';
import { KindScopes } from '../../src/targets/kubernetes/cluster-scope.js';
import { readAuditLog, waitUntil } from './helpers.js';
import { recordedTestDir, removeRecordedTestDir } from '../support/recorded-test-dir.js';

// The shared control plane as someone else's cluster: the guards that keep a drill out of what is
// not its own, asked of the real apiserver (its audit log says what the harness requested).
const shared = inject('k8s');
const kc = loadKubeConfig(shared.kubeconfigPath, shared.context);
const core = kc.makeApiClient(CoreV1Api);
const crds = kc.makeApiClient(ApiextensionsV1Api);
const custom = kc.makeApiClient(CustomObjectsApi);
const tmp = recordedTestDir('drill-k8s-guards-');
const LABELLED = 'drill-guards-target';
const UNLABELLED = 'drill-guards-unlabelled';
const GROUP = 'guards.drill-test.example.com';
const CLUSTER_KIND = { kind: 'GuardClusterWidget', plural: 'guardclusterwidgets', scope: 'Cluster' as const };
const NAMESPACED_KIND = { kind: 'GuardWidget', plural: 'guardwidgets', scope: 'Namespaced' as const };

const loaded = await loadScenarioFile('drills/scenarios/k8s-pod-kill-self-heal.yaml');

function scenarioFile(name: string, kubernetes: string): string {
  const file = path.join(tmp, `${name}.yaml`);
  writeFileSync(
    file,
    `name: ${name}\ntitle: t\nrunbook: r\nseverity: P2\ntargets:\n  kubernetes: ${kubernetes}\n` +
      'workload:\n  probes: [{type: k8s-ready, name: api, endpoints: truststream-api}]\n' +
      'faults: [{type: k8s-pod-kill, selector: app=truststream-api}]\nrecovery: [{step: k8s-rollout-status}]\n',
  );
  return file;
}

/** provisionKubernetes for a kubeconfig cluster, with what the scenario's targets.kubernetes says. */
async function provision(kubernetes: Record<string, unknown>, teardown = new TeardownStack()) {
  const clock = startClock();
  const spec = (await loadScenarioFile(scenarioFile(`guard-${Date.now()}`, JSON.stringify(kubernetes)))).scenario.targets.kubernetes!;
  return provisionKubernetes(spec, {
    runId: 'guards-test',
    clock,
    ledger: new ResourceLedger(undefined),
    teardown,
    recorder: new JournalRecorder(clock, 'guards-test', loaded),
    signal: new AbortController().signal,
    databaseUrl: shared.databaseUrl,
  });
}

const crd = (k: { kind: string; plural: string; scope: 'Cluster' | 'Namespaced' }) => ({
  metadata: { name: `${k.plural}.${GROUP}` },
  spec: {
    group: GROUP,
    scope: k.scope,
    names: { kind: k.kind, plural: k.plural, singular: k.kind.toLowerCase(), listKind: `${k.kind}List` },
    versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
  },
});

beforeAll(async () => {
  await core.createNamespace({ body: { metadata: { name: LABELLED, labels: { 'drill.dev/target': 'true' } } } });
  await core.createNamespace({ body: { metadata: { name: UNLABELLED } } });
  for (const k of [CLUSTER_KIND, NAMESPACED_KIND]) await crds.createCustomResourceDefinition({ body: crd(k) });
  // Discovery lists a CRD's kind once it is Established.
  await waitUntil('both CRDs served', async () => {
    const scopes = new KindScopes(kc);
    const served = await Promise.all([CLUSTER_KIND, NAMESPACED_KIND].map((k) => scopes.scopeOf(`${GROUP}/v1`, k.kind)));
    return served.every((s) => s !== 'not-served') || undefined;
  });
});

afterAll(async () => {
  for (const k of [CLUSTER_KIND, NAMESPACED_KIND]) await crds.deleteCustomResourceDefinition({ name: `${k.plural}.${GROUP}` }).catch(() => undefined);
  for (const name of [LABELLED, UNLABELLED]) await core.deleteNamespace({ name }).catch(() => undefined);
  removeRecordedTestDir(tmp);
});

const namespaceReads = (name: string, since: string) =>
  readAuditLog(shared.auditLogPath).filter(
    (e) => e.stageTimestamp >= since && e.stage === 'ResponseComplete' && e.objectRef?.resource === 'namespaces' && e.objectRef.name === name && !e.objectRef.subresource,
  );

describe('targets.kubernetes.allowedContexts', () => {
  it('is checked by validate: a context outside the list is invalid input, before any cluster is asked', async () => {
    const file = scenarioFile(
      'guard-validate',
      JSON.stringify({ provider: 'kubeconfig', kubeconfig: shared.kubeconfigPath, namespace: LABELLED, allowedContexts: ['staging-drills'] }),
    );
    const error = await loadScenarioFile(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ScenarioValidationError);
    expect((error as ScenarioValidationError).issues).toEqual([
      expect.objectContaining({ keyPath: 'targets.kubernetes.allowedContexts', message: expect.stringContaining(`context "${shared.context}"`) }),
    ]);
    // The same file with the context allowed is valid.
    writeFileSync(file, readFileSync(file, 'utf8').replace('"staging-drills"', JSON.stringify(shared.context)));
    await expect(loadScenarioFile(file)).resolves.toMatchObject({ scenario: { targets: { kubernetes: { allowedContexts: [shared.context] } } } });
  });

  it('is checked by the run before anything is touched: a context outside the list never reaches the namespace (exit 2)', async () => {
    const since = new Date().toISOString();
    const base = { provider: 'kubeconfig', kubeconfig: shared.kubeconfigPath, context: shared.context, namespace: UNLABELLED };
    // The file says the context is allowed; the run is handed a list without it (a kubeconfig edited
    // between validate and run takes the same path).
    const { scenario } = await loadScenarioFile(scenarioFile('guard-run', JSON.stringify({ ...base, allowedContexts: [shared.context] })));
    const spec = { ...scenario.targets.kubernetes!, allowedContexts: ['staging-drills'] };
    const clock = startClock();
    const teardown = new TeardownStack();
    const refused = await provisionKubernetes(spec, {
      runId: 'guards-test',
      clock,
      ledger: new ResourceLedger(undefined),
      teardown,
      recorder: new JournalRecorder(clock, 'guards-test', loaded),
      signal: new AbortController().signal,
    }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'NOT_A_DRILL_TARGET', message: expect.stringContaining('allowedContexts: staging-drills') });
    expect(exitCodeForError(refused)).toBe(2);
    expect(await teardown.runAll()).toEqual([]);

    // Negative control: with the context allowed, the run goes on to read the namespace's label
    // (and is refused there, for that namespace is not labelled).
    const allowed = await provision({ ...base, allowedContexts: [shared.context] }).catch((e: unknown) => e);
    expect(allowed).toMatchObject({ code: 'NOT_A_DRILL_TARGET', message: expect.stringContaining('is not labelled drill.dev/target=true') });
    const reads = await waitUntil('the allowed run\'s read of the namespace in the audit log', async () => {
      const found = namespaceReads(UNLABELLED, since);
      return found.length > 0 ? found : undefined;
    });
    // Only the allowed run read it: the refused one stopped before its first request there.
    expect(reads).toHaveLength(1);
  });
});

describe('cluster-scoped kinds in custom manifests, by API discovery', () => {
  it('discovery answers for built-in kinds, CRD kinds of either scope, and kinds nobody serves', async () => {
    const scopes = new KindScopes(kc);
    expect(await scopes.scopeOf('v1', 'ConfigMap')).toBe('namespaced');
    expect(await scopes.scopeOf('v1', 'Namespace')).toBe('cluster');
    expect(await scopes.scopeOf('rbac.authorization.k8s.io/v1', 'ClusterRoleBinding')).toBe('cluster');
    expect(await scopes.scopeOf(`${GROUP}/v1`, CLUSTER_KIND.kind)).toBe('cluster');
    expect(await scopes.scopeOf(`${GROUP}/v1`, NAMESPACED_KIND.kind)).toBe('namespaced');
    expect(await scopes.scopeOf(`${GROUP}/v1`, 'NoSuchWidget')).toBe('not-served');
    expect(await scopes.scopeOf('nothing.example.com/v1', 'Thing')).toBe('not-served');
  });

  it('refuses a CRD-defined cluster-scoped kind in someone else\'s cluster, creating nothing from the manifests (exit 2)', async () => {
    const manifests = path.join(tmp, 'cluster-widget.yaml');
    writeFileSync(
      manifests,
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: guard-config}\ndata: {a: b}\n---\n' +
        `apiVersion: ${GROUP}/v1\nkind: ${CLUSTER_KIND.kind}\nmetadata: {name: guard-everywhere}\nspec: {reach: all-namespaces}\n`,
    );
    const teardown = new TeardownStack();
    const error = await provision({ provider: 'kubeconfig', kubeconfig: shared.kubeconfigPath, context: shared.context, namespace: LABELLED, manifests }, teardown).catch(
      (e: unknown) => e,
    );
    await teardown.runAll();
    expect(error).toMatchObject({
      code: 'NOT_A_DRILL_TARGET',
      message: expect.stringContaining(`${CLUSTER_KIND.kind} guard-everywhere (${GROUP}/v1) is cluster-scoped (API discovery says it is not namespaced)`),
    });
    expect(exitCodeForError(error)).toBe(2);
    // The apiserver answers 429 "storage is (re)initializing" for a while after a CRD changed: retried, as clients do.
    const widgets = await waitUntil('the cluster-scoped widgets listed', () => custom.listClusterCustomObject({ group: GROUP, version: 'v1', plural: CLUSTER_KIND.plural }));
    expect((widgets as { items: unknown[] }).items).toEqual([]);
    expect((await core.listNamespacedConfigMap({ namespace: LABELLED })).items.map((c) => c.metadata?.name)).not.toContain('guard-config');
  });

  it('negative control: a CRD-defined namespaced kind is deployed into the drill namespace and removed at teardown', async () => {
    const manifests = path.join(tmp, 'namespaced-widget.yaml');
    writeFileSync(
      manifests,
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: guard-config}\ndata: {a: b}\n---\n' +
        `apiVersion: ${GROUP}/v1\nkind: ${NAMESPACED_KIND.kind}\nmetadata: {name: guard-local}\nspec: {reach: this-namespace}\n`,
    );
    const teardown = new TeardownStack();
    const list = () => custom.listNamespacedCustomObject({ group: GROUP, version: 'v1', namespace: LABELLED, plural: NAMESPACED_KIND.plural }) as Promise<{ items: Array<{ metadata: { name: string } }> }>;
    try {
      await provision({ provider: 'kubeconfig', kubeconfig: shared.kubeconfigPath, context: shared.context, namespace: LABELLED, manifests }, teardown);
      expect((await list()).items.map((w) => w.metadata.name)).toEqual(['guard-local']);
    } finally {
      expect(await teardown.runAll()).toEqual([]);
    }
    await waitUntil('the widget removed', async () => ((await list()).items.length === 0 ? true : undefined));
  });
});
