import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import type { KubernetesObject, V1ConfigMap, V1CronJob, V1Job } from '@kubernetes/client-node';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { parse } from 'yaml';
import { loadScenarioFiles } from '../../src/scenario/loader.js';
import { readManifests } from '../../src/targets/kubernetes/manifest-set.js';
import {
  DEPLOY_DIR,
  TARGET_NAMESPACE,
  deployObjects,
  deployProblems,
  drillPods,
  find,
  kustomizationResources,
  manifestFiles,
  readManifestFile,
} from '../support/deploy-manifests.js';

/**
 * deploy/ and the Dockerfile, checked without a cluster (the kubernetes project applies them to
 * a real one: test/kubernetes/deploy-manifests.test.ts). Each rule has a negative control: the
 * shipped set with one thing broken, which the same check must reject.
 */
const ROOT = path.resolve(DEPLOY_DIR, '..');
const objects = deployObjects();
const work = mkdtempSync(path.join(os.tmpdir(), 'drill-deploy-lint-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const mutated = (change: (copy: KubernetesObject[]) => void): KubernetesObject[] => {
  const copy = structuredClone(objects);
  change(copy);
  return copy;
};
const job = (set: KubernetesObject[]) => find<V1Job>(set, 'Job');
const cronJob = (set: KubernetesObject[]) => find<V1CronJob>(set, 'CronJob');
const jobContainer = (set: KubernetesObject[]) => job(set).spec!.template.spec!.containers[0]!;

describe('deploy/ manifests', () => {
  it('kustomization.yaml lists exactly the manifest files of deploy/, and each parses with apiVersion, kind and name', () => {
    expect([...kustomizationResources()].sort()).toEqual(manifestFiles());
    expect(objects.length).toBeGreaterThanOrEqual(manifestFiles().length);
    for (const o of objects) expect(o.apiVersion && o.kind && o.metadata?.name, JSON.stringify(o).slice(0, 80)).toBeTruthy();
    // Negative control: a duplicate key is an error, not silently the last value.
    writeFileSync(path.join(work, 'dup.yaml'), 'apiVersion: v1\nkind: ConfigMap\nkind: Secret\nmetadata: {name: x}\n');
    expect(() => readManifestFile(path.join(work, 'dup.yaml'))).toThrow(/dup\.yaml/);
  });

  it('the shipped set has no problem', () => {
    expect(deployProblems(objects)).toEqual([]);
  });

  it('RBAC: namespaced only, no wildcard, no escalation (negative controls)', () => {
    expect(objects.filter((o) => o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding')).toEqual([]);
    const clusterRole = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'drill-admin' }, rules: [] };
    expect(deployProblems(mutated((c) => c.push(clusterRole)))).toEqual([expect.stringMatching(/ClusterRole drill-admin: cluster-scoped RBAC/)]);
    const role = (c: KubernetesObject[]) => find<KubernetesObject & { rules: Array<{ verbs: string[]; resources: string[]; resourceNames?: string[] }> }>(c, 'Role');
    expect(deployProblems(mutated((c) => role(c).rules[1]!.verbs.push('*')))).toEqual([expect.stringMatching(/wildcard in verbs/), expect.stringMatching(/verb \* lets it/)]);
    expect(deployProblems(mutated((c) => role(c).rules[1]!.resources.push('*')))).toEqual([expect.stringMatching(/wildcard in resources/)]);
    expect(deployProblems(mutated((c) => role(c).rules[1]!.verbs.push('bind')))).toEqual([expect.stringMatching(/verb bind/)]);
    expect(deployProblems(mutated((c) => delete role(c).rules[0]!.resourceNames))).toEqual([expect.stringMatching(/namespaces without resourceNames/)]);
    expect(deployProblems(mutated((c) => (role(c).metadata!.namespace = 'kube-system')))).toEqual([
      expect.stringMatching(/namespace kube-system is neither/),
      expect.stringMatching(/a Role outside drill-target/),
    ]);
    const binding = (c: KubernetesObject[]) => find<KubernetesObject & { roleRef: { kind: string; name: string } }>(c, 'RoleBinding');
    expect(deployProblems(mutated((c) => (binding(c).roleRef = { kind: 'ClusterRole', name: 'cluster-admin' })))).toEqual([expect.stringMatching(/binds a ClusterRole/)]);
  });

  it('the optional node reader is the only cluster-scoped RBAC, read-only on nodes', () => {
    const optional = readManifestFile(path.join(DEPLOY_DIR, 'optional/node-reader.yaml'));
    expect(readdirSync(path.join(DEPLOY_DIR, 'optional'))).toEqual(['node-reader.yaml']);
    expect(deployProblems(optional, { allowedClusterRoles: ['drill-node-reader'] })).toEqual([]);
    const rules = find<KubernetesObject & { rules: Array<{ apiGroups: string[]; resources: string[]; verbs: string[] }> }>(optional, 'ClusterRole').rules;
    expect(rules).toEqual([{ apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list'] }]);
    // Negative control: not allowed unless named as documented.
    expect(deployProblems(optional)).toHaveLength(2);
  });

  it('pods: pull policy, requests and limits, non-root, the drill ServiceAccount, the key from a Secret (negative controls)', () => {
    expect(drillPods(objects).map((p) => p.where)).toEqual(['Job drill-game-day', 'CronJob drill-game-day']);
    expect(deployProblems(mutated((c) => delete jobContainer(c).imagePullPolicy))).toEqual([expect.stringMatching(/Job drill-game-day container drill: imagePullPolicy/)]);
    expect(deployProblems(mutated((c) => delete jobContainer(c).resources!.limits))).toEqual([
      expect.stringMatching(/resources\.limits\.cpu/),
      expect.stringMatching(/resources\.limits\.memory/),
    ]);
    expect(deployProblems(mutated((c) => (job(c).spec!.template.spec!.serviceAccountName = 'default')))).toEqual([expect.stringMatching(/serviceAccountName must be drill/)]);
    expect(deployProblems(mutated((c) => (job(c).spec!.template.spec!.securityContext!.runAsNonRoot = false)))).toEqual([expect.stringMatching(/runAsNonRoot/)]);
    const literalKey = (c: KubernetesObject[]) => {
      const env = jobContainer(c).env!.find((e) => e.name === 'DRILL_EVIDENCE_SIGNING_KEY')!;
      delete env.valueFrom;
      env.value = '-----BEGIN PRIVATE KEY-----\n...';
    };
    expect(deployProblems(mutated(literalKey))).toEqual([expect.stringMatching(/must come from a Secret/), expect.stringMatching(/holds a private key/)]);
    expect(deployProblems(mutated((c) => (jobContainer(c).env = jobContainer(c).env!.filter((e) => e.name !== 'DRILL_EVIDENCE_SIGNING_KEY'))))).toEqual([expect.stringMatching(/evidence would be unsigned/)]);
    expect(deployProblems(mutated((c) => jobContainer(c).volumeMounts!.push({ name: 'nope', mountPath: '/x' })))).toEqual([expect.stringMatching(/mounts nope/)]);
  });

  it('Job and CronJob: never retried, bounded, Forbid, history limits; the CronJob runs the same pod as the Job (negative controls)', () => {
    expect(cronJob(objects).spec!.jobTemplate.spec!.template).toEqual(job(objects).spec!.template);
    expect(cronJob(objects).spec).toMatchObject({ concurrencyPolicy: 'Forbid', successfulJobsHistoryLimit: 3, failedJobsHistoryLimit: 5 });
    expect(deployProblems(mutated((c) => (cronJob(c).spec!.concurrencyPolicy = 'Allow')))).toEqual([expect.stringMatching(/concurrencyPolicy must be Forbid/)]);
    expect(deployProblems(mutated((c) => delete cronJob(c).spec!.failedJobsHistoryLimit))).toEqual([expect.stringMatching(/HistoryLimit/)]);
    expect(deployProblems(mutated((c) => (job(c).spec!.backoffLimit = 6)))).toEqual([expect.stringMatching(/backoffLimit must be 0/)]);
    expect(deployProblems(mutated((c) => delete cronJob(c).spec!.jobTemplate.spec!.activeDeadlineSeconds))).toEqual([expect.stringMatching(/jobTemplate needs activeDeadlineSeconds/)]);
  });

  it('volumes name objects of deploy/; the scenarios, their system and the in-cluster kubeconfig fit together', async () => {
    const spec = job(objects).spec!.template.spec!;
    for (const v of spec.volumes!) {
      if (v.configMap) expect(find(objects, 'ConfigMap', v.configMap.name).metadata!.namespace).toBe('drill');
      if (v.persistentVolumeClaim) expect(find(objects, 'PersistentVolumeClaim', v.persistentVolumeClaim.claimName).metadata!.namespace).toBe('drill');
    }
    const mountOf = (volume: string) => spec.containers[0]!.volumeMounts!.find((m) => m.name === volume)!.mountPath;
    // The ConfigMaps written out where the pod mounts them (relative to a temp root), then read as drill would.
    const mountAt = (volume: string) => {
      const dir = path.join(work, mountOf(volume));
      mkdirSync(dir, { recursive: true });
      const name = spec.volumes!.find((v) => v.name === volume)!.configMap!.name;
      for (const [key, text] of Object.entries(find<V1ConfigMap>(objects, 'ConfigMap', name).data!)) writeFileSync(path.join(dir, key), text);
      return dir;
    };
    const scenarios = mountAt('scenarios');
    mountAt('system');
    const kubeconfig = parse(readFileSync(path.join(mountAt('kubeconfig'), 'config'), 'utf8')) as { 'current-context': string; contexts: Array<{ name: string; context: { namespace: string } }> };
    // As in the pod: $KUBECONFIG is the mounted file (drill validate reads it), beside the token
    // and CA the kubelet projects into every pod (here under the temp root too).
    const serviceAccountDir = path.join(work, '/var/run/secrets/kubernetes.io/serviceaccount');
    mkdirSync(serviceAccountDir, { recursive: true });
    writeFileSync(path.join(serviceAccountDir, 'token'), 'not-a-token');
    writeFileSync(path.join(serviceAccountDir, 'ca.crt'), '');
    const kubeconfigFile = path.join(work, mountOf('kubeconfig'), 'config');
    writeFileSync(kubeconfigFile, readFileSync(kubeconfigFile, 'utf8').replaceAll('/var/run/secrets/', `${work}/var/run/secrets/`));
    vi.stubEnv('KUBECONFIG', kubeconfigFile);
    const loaded = await loadScenarioFiles(readdirSync(scenarios).map((f) => path.join(scenarios, f))).finally(() => vi.unstubAllEnvs());
    expect(loaded.map((l) => l.scenario.name).sort()).toEqual(['k8s-pod-kill', 'pg-corruption-pitr']);
    const k8s = loaded.find((l) => l.scenario.targets.kubernetes)!.scenario.targets.kubernetes!;
    expect(k8s).toMatchObject({ provider: 'kubeconfig', namespace: TARGET_NAMESPACE, context: kubeconfig['current-context'], allowedContexts: [kubeconfig['current-context']] });
    expect(kubeconfig.contexts[0]!.context.namespace).toBe(TARGET_NAMESPACE);
    expect(find(objects, 'Namespace', TARGET_NAMESPACE).metadata!.labels).toMatchObject({ 'drill.dev/target': 'true' });
    // The scenario's manifests resolve to the mounted system, and drill accepts them.
    const system = await readManifests(path.resolve(scenarios, k8s.manifests!));
    expect(system.map((o) => `${o.kind}/${o.metadata!.name}`)).toEqual(['Deployment/web']);
    // The kubeconfig reads the pod's ServiceAccount token and CA, never a literal credential.
    const text = find<V1ConfigMap>(objects, 'ConfigMap', 'drill-kubeconfig').data!.config!;
    expect(text).toMatch(/token-file: \/var\/run\/secrets\/kubernetes\.io\/serviceaccount\/token/);
    expect(text).not.toMatch(/\n\s*token:|client-key/);
    // The signing key: the variable the CLI reads, from the Secret the README says to create.
    const env = spec.containers[0]!.env!.find((e) => e.name === 'DRILL_EVIDENCE_SIGNING_KEY')!;
    expect(env.valueFrom!.secretKeyRef).toEqual({ name: 'drill-evidence-signing-key', key: 'drill-evidence.key' });
    expect(readFileSync(path.join(ROOT, 'README.md'), 'utf8')).toContain('kubectl create secret generic drill-evidence-signing-key -n drill --from-file=drill-evidence.key=');
  });
});

describe('Dockerfile', () => {
  const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };

  it('Node 20 slim, PostgreSQL server binaries, production dependencies, entrypoint drill, the pods\' numeric user', () => {
    expect(dockerfile).toMatch(/^FROM node:20-[a-z]+-slim$/m);
    expect(dockerfile).toMatch(/apt-get install[^\n]*postgresql-15/);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    expect(dockerfile).toMatch(/^ENTRYPOINT \[[^\]]*"drill"\]$/m);
    const user = /^USER (\d+):(\d+)$/m.exec(dockerfile);
    const pod = job(objects).spec!.template.spec!.securityContext!;
    expect([Number(user?.[1]), Number(user?.[2])]).toEqual([pod.runAsUser, pod.runAsGroup]);
  });

  it('copies everything `drill run` reads at run time', () => {
    const copied = [...dockerfile.matchAll(/^COPY (.+) \S+$/gm)].flatMap((m) => m[1]!.split(/\s+/));
    // bin/drill.mjs imports src/; drill run starts vitest with vitest.drill.config.ts on drills/drill.test.ts.
    for (const needed of ['package.json', 'package-lock.json', 'bin', 'src', 'drills', 'sut', 'vitest.drill.config.ts']) expect(copied).toContain(needed);
  });

  it('--omit=dev is enough: nothing the CLI loads imports a devDependency', () => {
    const files = ['bin/drill.mjs', 'vitest.drill.config.ts', 'drills/drill.test.ts', ...listTs(path.join(ROOT, 'src'))];
    const imported = new Set(files.flatMap((file) => packagesImported(readFileSync(path.resolve(ROOT, file), 'utf8'))));
    expect(imported.size).toBeGreaterThan(10);
    expect([...imported].filter((name) => !(name in pkg.dependencies))).toEqual([]);
    // Negative control: the same scan finds a devDependency, and skips what tsx erases.
    const sample = "import fc from 'fast-check';\nimport type { X } from 'typescript';\nconst m = await import('smtp-server/lib/x.js');\nimport { a } from './local.js';\n";
    expect(packagesImported(sample)).toEqual(['fast-check', 'smtp-server']);
    expect(['fast-check', 'smtp-server'].filter((d) => d in pkg.devDependencies && !(d in pkg.dependencies))).toHaveLength(2);
  });
});

/** Bare package names a source file loads at run time (value imports; `import type` is erased). */
function packagesImported(text: string): string[] {
  const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
  const names: string[] = [];
  for (const m of text.matchAll(/(?:^\s*import(?!\s+type\b)[^'"]*?from\s*|^\s*export\s+(?!type\b)[^'"]*?from\s*|\bimport\s*\(\s*|^\s*import\s+)['"]([^'"./][^'"]*)['"]/gm)) {
    const spec = m[1]!;
    const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
    if (!builtins.has(spec) && !builtins.has(name)) names.push(name);
  }
  return names;
}

function listTs(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return listTs(full);
    return /\.(ts|mts|mjs)$/.test(e.name) ? [full] : [];
  });
}
