import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { KubernetesObject, V1Container, V1CronJob, V1Job, V1PodSpec, V1PolicyRule } from '@kubernetes/client-node';
import { parse, parseAllDocuments } from 'yaml';

/** deploy/: the manifests that run drills inside a cluster (README "Game days on your cluster"). */
export const DEPLOY_DIR = path.resolve(import.meta.dirname, '../../deploy');

/** The namespace the drill pods run in, and the only one they may act on. */
export const RUNNER_NAMESPACE = 'drill';
export const TARGET_NAMESPACE = 'drill-target';

/** The kustomization's resources, in its order (the order plain `kubectl apply -f` follows). */
export function kustomizationResources(dir = DEPLOY_DIR): string[] {
  return (parse(readFileSync(path.join(dir, 'kustomization.yaml'), 'utf8')) as { resources: string[] }).resources;
}

/** Every object of one manifest file; throws naming the file and line of the first YAML error. */
export function readManifestFile(file: string): KubernetesObject[] {
  const docs = parseAllDocuments(readFileSync(file, 'utf8'), { uniqueKeys: true });
  return (Array.isArray(docs) ? docs : []).flatMap((doc) => {
    if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]!.message}`);
    const obj = doc.toJS() as KubernetesObject | null;
    return obj ? [obj] : [];
  });
}

/** The default set: what `kubectl apply -k deploy/` creates. */
export function deployObjects(dir = DEPLOY_DIR): KubernetesObject[] {
  return kustomizationResources(dir).flatMap((file) => readManifestFile(path.join(dir, file)));
}

/** The manifest files in a directory (not kustomization.yaml, not subdirectories). */
export function manifestFiles(dir = DEPLOY_DIR): string[] {
  return readdirSync(dir)
    .filter((name) => /\.ya?ml$/.test(name) && name !== 'kustomization.yaml')
    .sort();
}

export function find<T extends KubernetesObject>(objects: KubernetesObject[], kind: string, name?: string): T {
  const found = objects.find((o) => o.kind === kind && (name === undefined || o.metadata?.name === name));
  if (!found) throw new Error(`no ${kind}${name ? ` ${name}` : ''} in deploy/`);
  return found as T;
}

/** The drill pod as the Job and the CronJob define it. */
export function drillPods(objects: KubernetesObject[]): Array<{ where: string; spec: V1PodSpec }> {
  return objects.flatMap((o) => {
    if (o.kind === 'Job') return [{ where: `Job ${o.metadata?.name}`, spec: (o as V1Job).spec!.template.spec! }];
    if (o.kind === 'CronJob') return [{ where: `CronJob ${o.metadata?.name}`, spec: (o as V1CronJob).spec!.jobTemplate.spec!.template.spec! }];
    return [];
  });
}

const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'PersistentVolume', 'StorageClass', 'CustomResourceDefinition']);
/** Verbs that let a holder grant itself more than it was given. */
const ESCALATING_VERBS = new Set(['*', 'escalate', 'bind', 'impersonate']);

/**
 * What is wrong with a set of drill deployment objects, one sentence each; [] when nothing is.
 * The rules the README promises: required fields, namespaced objects only in the two drill
 * namespaces, RBAC namespaced and without wildcards or escalation, pods with a pull policy,
 * requests and limits, non-root, the signing key from a Secret, Job and CronJob bounded.
 */
export function deployProblems(objects: KubernetesObject[], options: { allowedClusterRoles?: string[] } = {}): string[] {
  const problems: string[] = [];
  for (const o of objects) {
    const what = `${o.kind ?? '?'} ${o.metadata?.name ?? '?'}`;
    if (!o.apiVersion || !o.kind || !o.metadata?.name) problems.push(`${what}: needs apiVersion, kind and metadata.name`);
    if (!CLUSTER_SCOPED.has(o.kind ?? '') && ![RUNNER_NAMESPACE, TARGET_NAMESPACE].includes(o.metadata?.namespace ?? '')) {
      problems.push(`${what}: namespace ${o.metadata?.namespace ?? '(none)'} is neither ${RUNNER_NAMESPACE} nor ${TARGET_NAMESPACE}`);
    }
    if ((o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding') && !(options.allowedClusterRoles ?? []).includes(o.metadata?.name ?? '')) {
      problems.push(`${what}: cluster-scoped RBAC is not part of the default set (only documented optional files may have it)`);
    }
    if (o.kind === 'Role' || o.kind === 'ClusterRole') {
      if (o.kind === 'Role' && o.metadata?.namespace !== TARGET_NAMESPACE) problems.push(`${what}: a Role outside ${TARGET_NAMESPACE}`);
      for (const rule of (o as KubernetesObject & { rules?: V1PolicyRule[] }).rules ?? []) {
        for (const field of ['apiGroups', 'resources', 'verbs'] as const) {
          if ((rule[field] ?? []).includes('*')) problems.push(`${what}: wildcard in ${field}`);
        }
        for (const verb of rule.verbs) if (ESCALATING_VERBS.has(verb)) problems.push(`${what}: verb ${verb} lets it grant itself more`);
        if ((rule.resources ?? []).includes('namespaces') && !(rule.resourceNames ?? []).length && o.kind === 'Role') {
          problems.push(`${what}: namespaces without resourceNames`);
        }
      }
    }
    if (o.kind === 'RoleBinding') {
      const binding = o as KubernetesObject & { roleRef: { kind: string } };
      if (binding.roleRef.kind !== 'Role') problems.push(`${what}: binds a ${binding.roleRef.kind}; the drill's rights are a Role of ${TARGET_NAMESPACE}`);
    }
    if (o.kind === 'Job') {
      const spec = (o as V1Job).spec!;
      if (spec.backoffLimit !== 0) problems.push(`${what}: backoffLimit must be 0 (a drill is never retried)`);
      if (!((spec.activeDeadlineSeconds ?? 0) > 0)) problems.push(`${what}: needs activeDeadlineSeconds`);
    }
    if (o.kind === 'CronJob') {
      const spec = (o as V1CronJob).spec!;
      if (spec.concurrencyPolicy !== 'Forbid') problems.push(`${what}: concurrencyPolicy must be Forbid`);
      if (spec.successfulJobsHistoryLimit === undefined || spec.failedJobsHistoryLimit === undefined) problems.push(`${what}: needs successfulJobsHistoryLimit and failedJobsHistoryLimit`);
      if (spec.jobTemplate.spec?.backoffLimit !== 0) problems.push(`${what}: the jobTemplate's backoffLimit must be 0`);
      if (!((spec.jobTemplate.spec?.activeDeadlineSeconds ?? 0) > 0)) problems.push(`${what}: the jobTemplate needs activeDeadlineSeconds`);
    }
  }
  for (const { where, spec } of drillPods(objects)) problems.push(...podProblems(where, spec));
  return problems;
}

function podProblems(where: string, spec: V1PodSpec): string[] {
  const problems: string[] = [];
  if (spec.serviceAccountName !== 'drill') problems.push(`${where}: serviceAccountName must be drill`);
  if (spec.restartPolicy !== 'Never') problems.push(`${where}: restartPolicy must be Never`);
  if (spec.securityContext?.runAsNonRoot !== true) problems.push(`${where}: runAsNonRoot must be true`);
  const volumes = new Set((spec.volumes ?? []).map((v) => v.name));
  for (const c of [...(spec.initContainers ?? []), ...spec.containers]) problems.push(...containerProblems(`${where} container ${c.name}`, c, volumes));
  if (!spec.containers.some((c) => c.env?.some((e) => e.name === 'DRILL_EVIDENCE_SIGNING_KEY'))) problems.push(`${where}: no DRILL_EVIDENCE_SIGNING_KEY: the evidence would be unsigned`);
  return problems;
}

function containerProblems(where: string, c: V1Container, volumes: Set<string>): string[] {
  const problems: string[] = [];
  if (!c.image) problems.push(`${where}: no image`);
  if (!c.imagePullPolicy) problems.push(`${where}: imagePullPolicy must be set`);
  for (const kind of ['requests', 'limits'] as const) {
    for (const resource of ['cpu', 'memory']) {
      if (c.resources?.[kind]?.[resource] === undefined) problems.push(`${where}: resources.${kind}.${resource} must be set`);
    }
  }
  if (c.securityContext?.allowPrivilegeEscalation !== false) problems.push(`${where}: allowPrivilegeEscalation must be false`);
  for (const env of c.env ?? []) {
    if (env.name === 'DRILL_EVIDENCE_SIGNING_KEY' && !env.valueFrom?.secretKeyRef) problems.push(`${where}: DRILL_EVIDENCE_SIGNING_KEY must come from a Secret (valueFrom.secretKeyRef), never a literal value`);
    if (env.value?.includes('PRIVATE KEY')) problems.push(`${where}: env ${env.name} holds a private key in the manifest`);
  }
  for (const m of c.volumeMounts ?? []) if (!volumes.has(m.name)) problems.push(`${where}: mounts ${m.name}, which is no volume of the pod`);
  return problems;
}
