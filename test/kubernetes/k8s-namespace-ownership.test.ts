import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { CoreV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { startClock } from '../../src/engine/clock.js';
import { JournalRecorder } from '../../src/engine/journal-recorder.js';
import { provisionKubernetes } from '../../src/targets/kubernetes/provision-kubernetes.js';
import { reapResources } from '../../src/engine/reaper.js';
import { TeardownStack } from '../../src/engine/teardown-stack.js';
import { scenarioSchema } from '../../src/scenario/schema.js';
import { loadScenarioFile } from '../../src/scenario/loader.js';
import { readResources, ResourceLedger } from '../../src/engine/resource-ledger.js';
import { loadKubeConfig } from '../../src/targets/kubernetes/cluster-client.js';
import { readJournal, ROOT, runCli, runDirFrom } from '../e2e/helpers.js';
import { recordedTestDir, removeRecordedTestDir } from '../support/recorded-test-dir.js';

// A namespace the drill did not create is never deleted: not by teardown, not by the reaper.
const shared = inject('k8s');
const core = loadKubeConfig(shared.kubeconfigPath, shared.context).makeApiClient(CoreV1Api);
const tmp = recordedTestDir('drill-ns-ownership-');
afterAll(() => removeRecordedTestDir(tmp));

const exists = (name: string) =>
  core.readNamespace({ name }).then(
    (ns) => ns.metadata?.deletionTimestamp === undefined,
    (e: { code?: number }) => e.code !== 404,
  );

describe('drill namespace ownership (real control plane)', () => {
  it('a pre-existing namespace named in the scenario survives the failed provision and a reaper pass', async () => {
    const namespace = 'payments-e2e';
    await core.createNamespace({ body: { metadata: { name: namespace, labels: { team: 'payments' } } } });
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'keep-me' }, data: { a: 'b' } } });
    try {
      const result = await runCli(['run', path.join(ROOT, 'test/fixtures/scenarios/k8s-existing-namespace.yaml'), '--reports-dir', tmp], {
        env: { DRILL_KUBECONFIG: shared.kubeconfigPath, DRILL_TEST_NAMESPACE: namespace },
      });
      const runDir = runDirFrom(result.stdout, tmp);
      const journal = readJournal(runDir);
      expect(result.code, result.stdout + result.stderr).not.toBe(0);
      expect(journal.error?.code).toBe('NAMESPACE_EXISTS');
      expect(await exists(namespace)).toBe(true);

      // The ledger names the namespace (recorded before the create); the reaper leaves it alone.
      const ledgerFile = path.join(runDir, 'resources.jsonl');
      expect(readResources(ledgerFile)).toContainEqual(expect.objectContaining({ kind: 'k8s-namespace', name: namespace }));
      expect(await reapResources(ledgerFile)).toEqual([]);
      expect(await exists(namespace)).toBe(true);
      expect((await core.readNamespacedConfigMap({ name: 'keep-me', namespace })).data).toEqual({ a: 'b' });
    } finally {
      await core.deleteNamespace({ name: namespace }).catch(() => undefined);
    }
  });

  it('the reaper deletes a namespace only when it carries the run label of the ledger entry', async () => {
    const ledgerFile = path.join(tmp, 'reaper-resources.jsonl');
    const ledger = new ResourceLedger(ledgerFile);
    const mine = 'drill-reaper-mine';
    const other = 'drill-reaper-other';
    await core.createNamespace({ body: { metadata: { name: mine, labels: { 'drill.dev/run': 'run-1' } } } });
    await core.createNamespace({ body: { metadata: { name: other, labels: { 'drill.dev/run': 'run-2' } } } });
    try {
      for (const name of [mine, other]) ledger.record({ kind: 'k8s-namespace', kubeconfig: shared.kubeconfigPath, context: shared.context, name, runId: 'run-1' });
      ledger.record({ kind: 'k8s-namespace', kubeconfig: shared.kubeconfigPath, context: shared.context, name: other });
      expect(await reapResources(ledgerFile)).toEqual([`namespace ${mine}`]);
      expect(await exists(other)).toBe(true);
      expect(await exists(mine)).toBe(false);
    } finally {
      for (const name of [mine, other]) await core.deleteNamespace({ name }).catch(() => undefined);
    }
  });

  it('in a cluster the drill did not create, a cluster-wide object in custom manifests is refused, nothing created', async () => {
    const namespace = 'drill-e2e-cluster-scoped';
    const manifests = path.join(tmp, 'cluster-scoped.yaml');
    writeFileSync(
      manifests,
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app-config}\ndata: {a: b}\n---\n' +
        'apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: drill-e2e-takeover}\n' +
        'roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}\n' +
        'subjects: [{kind: ServiceAccount, name: default, namespace: drill-e2e-cluster-scoped}]\n',
    );
    await core.createNamespace({ body: { metadata: { name: namespace, labels: { 'drill.dev/target': 'true' } } } });
    const loaded = await loadScenarioFile('drills/scenarios/k8s-pod-kill-self-heal.yaml');
    const clock = startClock();
    const teardown = new TeardownStack();
    const spec = scenarioSchema.shape.targets.parse({
      kubernetes: { provider: 'kubeconfig', kubeconfig: shared.kubeconfigPath, context: shared.context, namespace, manifests },
    }).kubernetes!;
    try {
      const error = await provisionKubernetes(spec, {
        runId: 'cluster-scoped-test',
        clock,
        ledger: new ResourceLedger(undefined),
        teardown,
        recorder: new JournalRecorder(clock, 'cluster-scoped-test', loaded),
        signal: new AbortController().signal,
      }).catch((e: unknown) => e as Error & { code?: string });
      expect(error).toMatchObject({ code: 'NOT_A_DRILL_TARGET', message: expect.stringContaining('ClusterRoleBinding drill-e2e-takeover') });
      const rbac = loadKubeConfig(shared.kubeconfigPath, shared.context).makeApiClient(RbacAuthorizationV1Api);
      const crb = await rbac.readClusterRoleBinding({ name: 'drill-e2e-takeover' }).then(
        () => 200,
        (e: { code?: number }) => e.code,
      );
      expect(crb).toBe(404);
      expect((await core.listNamespacedConfigMap({ namespace })).items.map((c) => c.metadata?.name)).not.toContain('app-config');
    } finally {
      await teardown.runAll();
      await core.deleteNamespace({ name: namespace }).catch(() => undefined);
    }
  });
});
