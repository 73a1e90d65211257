import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  AuthorizationV1Api,
  BatchV1Api,
  CoreV1Api,
  KubeConfig,
  RbacAuthorizationV1Api,
  type KubernetesObject,
  type V1ConfigMap,
  type V1CronJob,
  type V1Pod,
  type V1PolicyRule,
  type V1ResourceAttributes,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { loadKubeConfig } from '../../src/targets/kubernetes/cluster-client.js';
import { kubeApi, MERGE_PATCH } from '../../src/targets/kubernetes/kube-api.js';
import { DEPLOY_DIR, RUNNER_NAMESPACE, TARGET_NAMESPACE, deployObjects, readManifestFile } from '../support/deploy-manifests.js';
import { readJournal, runCli, runDirFrom } from '../e2e/helpers.js';
import { statusOf, waitUntil } from './helpers.js';
import { recordedTestDir, removeRecordedTestDir } from '../support/recorded-test-dir.js';

// deploy/ applied to the shared control plane (a real kube-apiserver with RBAC and admission, the
// real Job and CronJob controllers), in two namespaces this file owns instead of drill and
// drill-target, and removed afterwards. What is checked is what the cluster does with the
// manifests: the Job controller's pod, the CronJob accepted, triggered by hand (as `kubectl create
// job --from` does) and on schedule, and the ServiceAccount's rights as the apiserver's authorizer
// answers them (SubjectAccessReview) and as its own token meets them.
const shared = inject('k8s');
const kc = loadKubeConfig(shared.kubeconfigPath, shared.context);
const api = kubeApi(kc);
const core = kc.makeApiClient(CoreV1Api);
const batch = kc.makeApiClient(BatchV1Api);
const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
const authz = kc.makeApiClient(AuthorizationV1Api);

const suffix = randomBytes(3).toString('hex');
const runner = `deploy-${suffix}`;
const target = `deploy-${suffix}-target`;
const nodeReader = `drill-node-reader-${suffix}`;
const serviceAccountUser = `system:serviceaccount:${runner}:drill`;

/** deploy/'s objects moved into this file's namespaces (every place a namespace is named). */
function relocate(objects: KubernetesObject[]): KubernetesObject[] {
  const rename = (ns: string | undefined) => (ns === RUNNER_NAMESPACE ? runner : ns === TARGET_NAMESPACE ? target : ns);
  return structuredClone(objects).map((o) => {
    const obj = o as KubernetesObject & { rules?: V1PolicyRule[]; subjects?: Array<{ namespace?: string }> };
    if (obj.kind === 'Namespace') obj.metadata!.name = rename(obj.metadata!.name);
    if (obj.metadata?.namespace) obj.metadata.namespace = rename(obj.metadata.namespace);
    if (obj.kind === 'ClusterRole' || obj.kind === 'ClusterRoleBinding') obj.metadata!.name = nodeReader;
    if (obj.kind === 'ClusterRoleBinding') (obj as unknown as { roleRef: { name: string } }).roleRef.name = nodeReader;
    for (const rule of obj.rules ?? []) if (rule.resourceNames) rule.resourceNames = rule.resourceNames.map((n) => rename(n)!);
    for (const subject of obj.subjects ?? []) subject.namespace = rename(subject.namespace);
    return obj;
  });
}

const objects = relocate(deployObjects());
const role = objects.find((o) => o.kind === 'Role') as KubernetesObject & { rules: V1PolicyRule[] };

async function allowed(attributes: V1ResourceAttributes): Promise<boolean> {
  const review = await authz.createSubjectAccessReview({
    body: {
      spec: {
        user: serviceAccountUser,
        groups: ['system:serviceaccounts', `system:serviceaccounts:${runner}`, 'system:authenticated'],
        resourceAttributes: attributes,
      },
    },
  });
  return review.status?.allowed === true;
}

async function jobPod(jobName: string): Promise<V1Pod> {
  return waitUntil(
    `the Job controller's pod of ${runner}/${jobName}`,
    async () => (await core.listNamespacedPod({ namespace: runner, labelSelector: `job-name=${jobName}` })).items[0],
    90_000,
  );
}

beforeAll(async () => {
  // The signing key the README says to create, as a Secret (never in a manifest).
  const { privateKey } = generateKeyPairSync('ed25519');
  for (const obj of objects) {
    await api.objects.create(obj);
    if (obj.kind === 'Namespace' && obj.metadata!.name === runner) {
      await core.createNamespacedSecret({
        namespace: runner,
        body: {
          metadata: { name: 'drill-evidence-signing-key' },
          stringData: { 'drill-evidence.key': privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() },
        },
      });
    }
  }
}, 120_000);

afterAll(async () => {
  await rbac.deleteClusterRoleBinding({ name: nodeReader }).catch(() => undefined);
  await rbac.deleteClusterRole({ name: nodeReader }).catch(() => undefined);
  for (const name of [runner, target]) await core.deleteNamespace({ name }).catch(() => undefined);
  // The apiserver's admission puts kubernetes.io/pvc-protection on the claim, and the shared
  // control plane runs no pvc-protection controller to take it off (component-args.ts CONTROLLERS):
  // done here, as that controller would once no pod uses the claim (none ever ran).
  await core
    .patchNamespacedPersistentVolumeClaim({ name: 'drill-results', namespace: runner, body: { metadata: { finalizers: null } } }, MERGE_PATCH)
    .catch(() => undefined);
  // Removed, not only asked to be: the namespace controller empties them first.
  for (const name of [runner, target]) {
    await waitUntil(
      `namespace ${name} gone`,
      async () => {
        const status = await statusOf(core.readNamespace({ name }));
        if (status.code === 404) return true;
        const left = (await core.readNamespace({ name })).status?.conditions?.filter((c) => c.status === 'True').map((c) => `${c.type}: ${c.message}`);
        throw new Error(`still there: ${left?.join('; ') || 'no condition yet'}`);
      },
      120_000,
    );
  }
}, 180_000);

describe('deploy/ on a real apiserver', () => {
  it('the Job controller creates the drill pod with the drill ServiceAccount, the signing key from the Secret and the results volume', async () => {
    const pod = await jobPod('drill-game-day');
    expect(pod.spec!.serviceAccountName).toBe('drill');
    expect(pod.spec!.restartPolicy).toBe('Never');
    // The ServiceAccount admission mounted its token: what the in-cluster kubeconfig reads.
    const container = pod.spec!.containers[0]!;
    expect(container.volumeMounts!.map((m) => m.mountPath)).toContain('/var/run/secrets/kubernetes.io/serviceaccount');
    expect(container.env!.find((e) => e.name === 'DRILL_EVIDENCE_SIGNING_KEY')).toEqual({
      name: 'DRILL_EVIDENCE_SIGNING_KEY',
      valueFrom: { secretKeyRef: { name: 'drill-evidence-signing-key', key: 'drill-evidence.key' } },
    });
    expect(container.env!.find((e) => e.name === 'KUBECONFIG')!.value).toBe('/etc/drill/kubeconfig/config');
    expect(container.imagePullPolicy).toBe('IfNotPresent');
    expect(container.resources!.limits).toMatchObject({ cpu: '2', memory: '2Gi' });
    const volumes = Object.fromEntries(pod.spec!.volumes!.map((v) => [v.name, v]));
    expect(volumes.results!.persistentVolumeClaim!.claimName).toBe('drill-results');
    expect(volumes.scenarios!.configMap!.name).toBe('drill-scenarios');
    expect(volumes.kubeconfig!.configMap!.name).toBe('drill-kubeconfig');
    expect(pod.metadata!.ownerReferences?.[0]).toMatchObject({ kind: 'Job', name: 'drill-game-day' });
    // Never more than one pod: backoffLimit 0 (the pod cannot start here, see the note in README).
    const job = await batch.readNamespacedJob({ name: 'drill-game-day', namespace: runner });
    expect(job.spec).toMatchObject({ backoffLimit: 0, activeDeadlineSeconds: 3600 });
  });

  it('the CronJob is accepted with its schedule and policy; a Job made from its jobTemplate by hand gets its pod', async () => {
    const cron = await batch.readNamespacedCronJob({ name: 'drill-game-day', namespace: runner });
    expect(cron.spec).toMatchObject({
      schedule: '0 9 * * 1',
      timeZone: 'Etc/UTC',
      concurrencyPolicy: 'Forbid',
      startingDeadlineSeconds: 3600,
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 5,
      suspend: false,
    });
    // What `kubectl create job --from=cronjob/drill-game-day` sends.
    const manual = await batch.createNamespacedJob({
      namespace: runner,
      body: {
        metadata: {
          name: 'drill-manual',
          annotations: { 'cronjob.kubernetes.io/instantiate': 'manual' },
          labels: cron.spec!.jobTemplate.metadata?.labels ?? {},
          ownerReferences: [{ apiVersion: 'batch/v1', kind: 'CronJob', name: cron.metadata!.name!, uid: cron.metadata!.uid!, controller: true, blockOwnerDeletion: true }],
        },
        spec: cron.spec!.jobTemplate.spec!,
      },
    });
    expect(manual.spec).toMatchObject({ backoffLimit: 0, activeDeadlineSeconds: 3600 });
    const pod = await jobPod('drill-manual');
    expect(pod.spec!.serviceAccountName).toBe('drill');
    expect(pod.spec!.containers[0]!.args).toEqual(['run', '/etc/drill/scenarios', '--reports-dir', '/var/lib/drill/reports', '--junit', '/var/lib/drill/reports/junit.xml']);
    // Negative control: the apiserver rejects what the lint rules forbid too (an invalid policy).
    const bad = structuredClone(objects.find((o) => o.kind === 'CronJob')) as V1CronJob;
    bad.metadata!.name = 'drill-bad-policy';
    bad.spec!.concurrencyPolicy = 'Sometimes';
    expect((await statusOf(batch.createNamespacedCronJob({ namespace: runner, body: bad }))).code).toBe(422);
  });

  it('the CronJob controller starts a Job on schedule and, with Forbid, no second one while it runs (Allow beside it does)', async () => {
    // deploy/'s CronJob with only the schedule changed (every minute), and a copy with Allow as
    // the negative control. Their Jobs' pods never start (unbound claim), so each first Job runs on.
    const base = objects.find((o) => o.kind === 'CronJob') as V1CronJob;
    const every = (name: string, policy: string): V1CronJob => {
      const copy = structuredClone(base);
      copy.metadata = { name, namespace: runner };
      copy.spec!.schedule = '* * * * *';
      copy.spec!.concurrencyPolicy = policy;
      return copy;
    };
    const forbid = await batch.createNamespacedCronJob({ namespace: runner, body: every('drill-every-minute', 'Forbid') });
    const allow = await batch.createNamespacedCronJob({ namespace: runner, body: every('drill-every-minute-allow', 'Allow') });
    const jobsOf = async (cron: V1CronJob) =>
      (await batch.listNamespacedJob({ namespace: runner })).items.filter((j) => j.metadata?.ownerReferences?.some((r) => r.uid === cron.metadata!.uid));
    await waitUntil('the CronJob controller to start a Job of drill-every-minute', async () => ((await jobsOf(forbid)).length > 0 ? true : undefined), 150_000);
    await waitUntil(
      'the next minute: Forbid skips (event JobAlreadyActive) while Allow starts a second Job',
      async () => {
        const events = await core.listNamespacedEvent({ namespace: runner, fieldSelector: `involvedObject.name=drill-every-minute,reason=JobAlreadyActive` });
        return events.items.length > 0 && (await jobsOf(allow)).length >= 2 ? true : undefined;
      },
      150_000,
    );
    expect(await jobsOf(forbid)).toHaveLength(1);
    await batch.patchNamespacedCronJob({ name: 'drill-every-minute-allow', namespace: runner, body: { spec: { suspend: true } } }, MERGE_PATCH);
    await batch.patchNamespacedCronJob({ name: 'drill-every-minute', namespace: runner, body: { spec: { suspend: true } } }, MERGE_PATCH);
  }, 360_000);

  it('RBAC: the drill ServiceAccount may do every rule of its Role in the target namespace and nothing elsewhere', async () => {
    const granted: V1ResourceAttributes[] = role.rules.flatMap((rule) =>
      rule.apiGroups!.flatMap((group) =>
        rule.resources!.flatMap((resource) =>
          rule.verbs.map((verb) => {
            const [res, sub] = resource.split('/');
            return { namespace: target, group, resource: res, ...(sub ? { subresource: sub } : {}), verb, ...(rule.resourceNames ? { name: rule.resourceNames[0] } : {}) };
          }),
        ),
      ),
    );
    expect(granted.length).toBeGreaterThan(30);
    const notAllowed = [];
    for (const attributes of granted) if (!(await allowed(attributes))) notAllowed.push(attributes);
    expect(notAllowed).toEqual([]);
    // The label check reads its own namespace object (a RoleBinding in it authorizes that).
    expect(await allowed({ resource: 'namespaces', verb: 'get', name: target, namespace: target })).toBe(true);

    const denied: Array<[string, V1ResourceAttributes]> = [
      ['Secrets of its own (runner) namespace', { namespace: runner, resource: 'secrets', verb: 'get', name: 'drill-evidence-signing-key' }],
      ['Secrets of kube-system', { namespace: 'kube-system', resource: 'secrets', verb: 'list' }],
      ['Secrets cluster-wide', { resource: 'secrets', verb: 'list' }],
      ['pods in default', { namespace: 'default', resource: 'pods', verb: 'delete' }],
      ['nodes (not in the default set)', { resource: 'nodes', verb: 'list' }],
      ['another namespace object', { resource: 'namespaces', verb: 'get', name: 'kube-system' }],
      ['deleting its target namespace', { resource: 'namespaces', verb: 'delete', name: target, namespace: target }],
      ['RoleBindings (no self-granting)', { namespace: target, group: 'rbac.authorization.k8s.io', resource: 'rolebindings', verb: 'create' }],
      ['ClusterRoleBindings', { group: 'rbac.authorization.k8s.io', resource: 'clusterrolebindings', verb: 'create' }],
      ['exec into pods', { namespace: target, resource: 'pods', subresource: 'exec', verb: 'create' }],
      ['impersonation', { resource: 'serviceaccounts', verb: 'impersonate', namespace: 'kube-system', name: 'default' }],
    ];
    const wronglyAllowed = [];
    for (const [what, attributes] of denied) if (await allowed(attributes)) wronglyAllowed.push(what);
    expect(wronglyAllowed).toEqual([]);
  });

  it("the ServiceAccount's own token meets the same answers at the apiserver (real requests)", async () => {
    const token = await core.createNamespacedServiceAccountToken({ name: 'drill', namespace: runner, body: { spec: { audiences: [], expirationSeconds: 600 } } });
    const asDrill = new KubeConfig();
    const cluster = kc.getCurrentCluster()!;
    asDrill.loadFromOptions({
      clusters: [cluster],
      users: [{ name: 'drill', token: token.status!.token }],
      contexts: [{ name: 'drill', cluster: cluster.name, user: 'drill' }],
      currentContext: 'drill',
    });
    const drillCore = asDrill.makeApiClient(CoreV1Api);
    expect((await statusOf(drillCore.listNamespacedPod({ namespace: target }))).code).toBe(200);
    expect((await statusOf(drillCore.readNamespace({ name: target }))).code).toBe(200);
    expect((await statusOf(drillCore.createNamespacedConfigMap({ namespace: target, body: { metadata: { name: 'drill-probe' } } }))).code).toBe(200);
    // Negative controls: the signing key next to it, another namespace's Secrets, the cluster.
    expect((await statusOf(drillCore.readNamespacedSecret({ name: 'drill-evidence-signing-key', namespace: runner }))).code).toBe(403);
    expect((await statusOf(drillCore.listNamespacedSecret({ namespace: 'kube-system' }))).code).toBe(403);
    expect((await statusOf(drillCore.listSecretForAllNamespaces()))).toMatchObject({ code: 403 });
    expect((await statusOf(drillCore.listNode())).code).toBe(403);
  });

  it("the shipped Kubernetes scenario passes through the in-cluster kubeconfig's shape with only the Role's rights", async () => {
    // deploy/'s k8s-pod-kill.yaml and its system as the pod mounts them, with two changes for this
    // cluster: the target namespace is this file's, and the example's image is one the real nodes
    // have (they pull nothing). The kubeconfig is drill-kubeconfig's, with the ServiceAccount's
    // token as a file and this apiserver's address and CA (kubernetes.default.svc is not served here).
    const work = recordedTestDir('drill-deploy-k8s-');
    try {
      const configMap = (name: string) => objects.find((o) => o.kind === 'ConfigMap' && o.metadata!.name === name) as V1ConfigMap;
      mkdirSync(path.join(work, 'scenarios'));
      mkdirSync(path.join(work, 'system'));
      writeFileSync(path.join(work, 'scenarios/k8s-pod-kill.yaml'), configMap('drill-scenarios').data!['k8s-pod-kill.yaml']!.replace(`namespace: ${TARGET_NAMESPACE}`, `namespace: ${target}`));
      writeFileSync(
        path.join(work, 'system/web.yaml'),
        configMap('drill-system').data!['web.yaml']!.replace('registry.k8s.io/pause:3.10', 'drill.local/pause:3.10').replace('imagePullPolicy: IfNotPresent', 'imagePullPolicy: Never'),
      );
      const token = await core.createNamespacedServiceAccountToken({ name: 'drill', namespace: runner, body: { spec: { audiences: [], expirationSeconds: 900 } } });
      writeFileSync(path.join(work, 'token'), token.status!.token);
      const cluster = kc.getCurrentCluster()!;
      writeFileSync(path.join(work, 'ca.crt'), Buffer.from(cluster.caData!, 'base64'));
      const kubeconfig = (parse(configMap('drill-kubeconfig').data!.config!) as { clusters: Array<{ cluster: Record<string, string> }>; users: Array<{ user: Record<string, string> }> });
      kubeconfig.clusters[0]!.cluster = { server: cluster.server, 'certificate-authority': path.join(work, 'ca.crt') };
      kubeconfig.users[0]!.user = { 'token-file': path.join(work, 'token') };
      writeFileSync(path.join(work, 'config'), stringify(kubeconfig));
      const result = await runCli(['run', path.join(work, 'scenarios'), '--reports-dir', path.join(work, 'reports')], { env: { KUBECONFIG: path.join(work, 'config'), DRILL_KUBECONFIG: '' } });
      expect(result.code, result.stdout + result.stderr).toBe(0);
      expect(result.stdout).toMatch(/k8s-pod-kill\s+PASSED/);
      // Its system was removed by its teardown, with the Role's delete rights.
      expect((await api.apps.listNamespacedDeployment({ namespace: target })).items).toEqual([]);

      // Negative control, as README says: k8s-incident-assessment reads nodes, which the Role
      // does not grant (optional/node-reader.yaml does); the same drill with it does not pass.
      const withAssessment = readFileSync(path.join(work, 'scenarios/k8s-pod-kill.yaml'), 'utf8')
        .replace('name: k8s-pod-kill', 'name: k8s-pod-kill-assessed')
        .replace('recovery:\n', 'recovery:\n  - step: k8s-incident-assessment\n    deployments: [web]\n');
      writeFileSync(path.join(work, 'scenarios/k8s-pod-kill.yaml'), withAssessment);
      const refused = await runCli(['run', path.join(work, 'scenarios'), '--reports-dir', path.join(work, 'reports')], { env: { KUBECONFIG: path.join(work, 'config'), DRILL_KUBECONFIG: '' } });
      expect(refused.code, refused.stdout + refused.stderr).toBe(3);
      const journal = readJournal(runDirFrom(refused.stdout, path.join(work, 'reports')));
      const assessment = journal.steps.find((step) => step.name === 'k8s-incident-assessment')!;
      expect(assessment.status).toBe('error');
      expect(assessment.error?.message).toMatch(/cannot list nodes[\s\S]*403[\s\S]*nodes is forbidden/);
    } finally {
      removeRecordedTestDir(work);
    }
  }, 400_000);

  it('optional/node-reader.yaml grants exactly listing and reading nodes, cluster-wide', async () => {
    expect(await allowed({ resource: 'nodes', verb: 'list' })).toBe(false);
    for (const obj of relocate(readManifestFile(path.join(DEPLOY_DIR, 'optional/node-reader.yaml')))) await api.objects.create(obj);
    await waitUntil('the node reader in effect', async () => ((await allowed({ resource: 'nodes', verb: 'list' })) ? true : undefined), 30_000);
    expect(await allowed({ resource: 'nodes', verb: 'get', name: shared.realNodes[0]! })).toBe(true);
    expect(await allowed({ resource: 'nodes', verb: 'patch', name: shared.realNodes[0]! })).toBe(false);
    expect(await allowed({ resource: 'secrets', verb: 'list' })).toBe(false);
  });
});
