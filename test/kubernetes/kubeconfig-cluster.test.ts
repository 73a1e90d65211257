import path from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { exitCodeForError } from '../../src/cli/output.js';
import { DrillError, EnvironmentError, InputError } from '../../src/engine/errors.js';
import { loadKubeConfig } from '../../src/targets/kubernetes/cluster-client.js';
import { writeKubeconfig } from '../../src/targets/kubernetes/kubeconfig-file.js';
import { KubeconfigCluster } from '../../src/targets/kubernetes/kubeconfig-cluster.js';
import { requireDrillTargetNamespace } from '../../src/targets/kubernetes/require-drill-target-namespace.js';
import { readAuditLog, waitUntil } from './helpers.js';
import { recordedTestDir, removeRecordedTestDir } from '../support/recorded-test-dir.js';

// The shared local control plane stands in for "someone else's cluster": it is reached only
// through its kubeconfig, as a KubeconfigCluster.
const shared = inject('k8s');
const admin = loadKubeConfig(shared.kubeconfigPath, shared.context).makeApiClient(CoreV1Api);
const unlabelled = 'kc-unlabelled';
const target = 'kc-target';
const tmp = recordedTestDir('drill-kubeconfig-test-');

const refusal = async (p: Promise<unknown>): Promise<DrillError> => {
  const error = await p.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(InputError);
  expect((error as DrillError).code).toBe('NOT_A_DRILL_TARGET');
  expect(exitCodeForError(error)).toBe(2);
  expect((error as Error).message).toMatch(/Nothing was touched\.$/);
  return error as DrillError;
};

/**
 * Requests by the harness's identity that changed anything in `namespace` (or the namespace itself)
 * since `since`. (Controllers do write into a new namespace on their own: its default service
 * account, the kube-root-ca.crt config map.)
 */
const writesTo = (namespace: string, since: string) =>
  readAuditLog(shared.auditLogPath).filter(
    (e) =>
      e.stageTimestamp >= since &&
      e.user.username === 'drill-admin' &&
      !['get', 'list', 'watch'].includes(e.verb) &&
      (e.objectRef?.namespace === namespace || (e.objectRef?.resource === 'namespaces' && e.objectRef.name === namespace)),
  );

beforeAll(async () => {
  await admin.createNamespace({ body: { metadata: { name: unlabelled } } });
  await admin.createNamespacedConfigMap({ namespace: unlabelled, body: { metadata: { name: 'precious' }, data: { keep: 'me' } } });
  await admin.createNamespace({ body: { metadata: { name: target, labels: { 'drill.dev/target': 'true' } } } });
});

afterAll(async () => {
  for (const name of [unlabelled, target]) await admin.deleteNamespace({ name }).catch(() => undefined);
  removeRecordedTestDir(tmp);
});

describe('an existing cluster through a kubeconfig', () => {
  it('refuses destructive steps in a namespace not labelled drill.dev/target=true (exit 2), touching nothing', async () => {
    const cluster = await KubeconfigCluster.open({ kubeconfigPath: shared.kubeconfigPath });
    expect(cluster.context).toBe(shared.context);
    const before = {
      ns: (await admin.readNamespace({ name: unlabelled })).metadata?.resourceVersion,
      cm: (await admin.readNamespacedConfigMap({ name: 'precious', namespace: unlabelled })).metadata?.resourceVersion,
    };
    const since = new Date().toISOString();
    const error = await refusal(requireDrillTargetNamespace(cluster, unlabelled, 'pod-kill'));
    expect(error.message).toContain(`namespace "${unlabelled}" in context "${shared.context}" is not labelled drill.dev/target=true`);
    expect(error.message).toContain(`kubectl --context ${shared.context} label namespace ${unlabelled} drill.dev/target=true`);

    // It looked (one GET of the namespace, in the audit log) and changed nothing.
    await waitUntil('the check\'s read of the namespace in the audit log', async () =>
      readAuditLog(shared.auditLogPath).some((e) => e.stageTimestamp >= since && e.verb === 'get' && e.objectRef?.resource === 'namespaces' && e.objectRef.name === unlabelled) || undefined,
    );
    expect(writesTo(unlabelled, since)).toEqual([]);
    expect((await admin.readNamespace({ name: unlabelled })).metadata?.resourceVersion).toBe(before.ns);
    expect((await admin.readNamespacedConfigMap({ name: 'precious', namespace: unlabelled })).metadata?.resourceVersion).toBe(before.cm);
  });

  it('refuses a namespace that does not exist, and does not create it', async () => {
    const cluster = await KubeconfigCluster.open({ kubeconfigPath: shared.kubeconfigPath, context: shared.context });
    const error = await refusal(requireDrillTargetNamespace(cluster, 'kc-missing'));
    expect(error.message).toContain('does not exist');
    expect((await admin.listNamespace()).items.map((n) => n.metadata?.name)).not.toContain('kc-missing');
  });

  it('refuses a context that is not allowed when opening the cluster, before its first request', async () => {
    const error = await refusal(KubeconfigCluster.open({ kubeconfigPath: shared.kubeconfigPath, allowedContexts: ['staging-drills'] }));
    expect(error.message).toContain(`context "${shared.context}" is not one the drill may act through (targets.kubernetes.allowedContexts: staging-drills)`);
  });

  it('allows a labelled namespace through an allowed context', async () => {
    const cluster = await KubeconfigCluster.open({ kubeconfigPath: shared.kubeconfigPath, allowedContexts: [shared.context] });
    await expect(requireDrillTargetNamespace(cluster, target)).resolves.toBeUndefined();
    // Every node of the cluster: the real ones and the (tainted) fake ones.
    expect((await cluster.nodes()).map((n) => n.name)).toEqual([...shared.realNodes, ...shared.nodes].sort());
    await cluster.dispose();
    // dispose() of a cluster the harness was only given leaves it alone.
    expect((await admin.readNamespace({ name: target })).status?.phase).toBe('Active');
  });

  it('says which contexts exist when the named one does not (exit 2), and when the apiserver does not answer (exit 3)', async () => {
    const missing = await KubeconfigCluster.open({ kubeconfigPath: shared.kubeconfigPath, context: 'prod' }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(InputError);
    expect((missing as Error).message).toContain(`it has: ${shared.context}`);

    const dead = path.join(tmp, 'dead.kubeconfig');
    await writeKubeconfig(dead, { name: 'dead', server: 'https://127.0.0.1:1', caPem: '', token: 'x' });
    const unreachable = await KubeconfigCluster.open({ kubeconfigPath: dead }).catch((e: unknown) => e);
    expect(unreachable).toBeInstanceOf(EnvironmentError);
    expect((unreachable as DrillError).code).toBe('K8S_UNREACHABLE');
    expect(exitCodeForError(unreachable)).toBe(3);
  });
});
