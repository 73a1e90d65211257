import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KubernetesObject } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { InputError } from '../../engine/errors.js';

/** The system under drill shipped with the harness: TrustStram's Deployments, Service, config and secret. */
export const BUILTIN_MANIFESTS = path.join(path.dirname(fileURLToPath(import.meta.url)), 'manifests', 'truststream');

/** Marks everything the harness applied, so it can remove exactly that from a namespace it does not own. */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'drill';
export const RUN_LABEL = 'drill.dev/run';

/** The Secret and key the runbook's "Update application connection strings" patches. */
export const DB_SECRET = 'truststream-db-credentials';
export const DB_URL_KEY = 'DATABASE_URL';

/** A run id as a label value: at most 63 characters of [A-Za-z0-9_.-], alphanumeric at both ends. */
export function runLabelValue(runId: string): string {
  return runId.replace(/[^A-Za-z0-9_.-]/g, '-').slice(-63).replace(/^[^A-Za-z0-9]+/, '').replace(/[^A-Za-z0-9]+$/, '') || 'run';
}

/**
 * Kinds that are not namespaced (cluster-wide): creating one in a cluster the drill did not create
 * would reach beyond the drill's namespace. Built-in Kubernetes kinds, plus common add-ons'.
 */
export const CLUSTER_SCOPED_KINDS: ReadonlySet<string> = new Set([
  'Namespace', 'Node', 'PersistentVolume', 'ComponentStatus',
  'ClusterRole', 'ClusterRoleBinding',
  'CustomResourceDefinition', 'APIService',
  'StorageClass', 'VolumeAttachment', 'CSIDriver', 'CSINode', 'VolumeAttributesClass',
  'PriorityClass', 'RuntimeClass', 'IngressClass', 'IPAddress', 'ServiceCIDR',
  'MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration',
  'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding', 'MutatingAdmissionPolicy', 'MutatingAdmissionPolicyBinding',
  'CertificateSigningRequest', 'ClusterTrustBundle', 'FlowSchema', 'PriorityLevelConfiguration',
  'PodSecurityPolicy', 'DeviceClass', 'ResourceSlice', 'StorageVersion', 'StorageVersionMigration',
  'ClusterIssuer', 'ClusterPolicy', 'ClusterServiceVersion', 'GatewayClass',
]);

function yamlFiles(source: string): string[] {
  let stat;
  try {
    stat = statSync(source);
  } catch {
    throw new InputError('MANIFESTS_NOT_FOUND', `targets.kubernetes.manifests: ${source} does not exist; give a YAML file or a directory of them`);
  }
  if (stat.isFile()) return [source];
  const files = readdirSync(source)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => path.join(source, f));
  if (files.length === 0) throw new InputError('MANIFESTS_NOT_FOUND', `targets.kubernetes.manifests: ${source} holds no .yaml files`);
  return files;
}

/**
 * The objects to apply, in file order, each placed in `namespace` and labelled as the harness's.
 * When a database URL is given and the set has the DATABASE_URL Secret, the URL goes into it
 * (as stringData: the apiserver encodes it; the value never passes through a log or the journal).
 */
export function loadManifests(
  source: string,
  options: { namespace: string; runId: string; databaseUrl?: string; /** A cluster the drill did not create: cluster-wide kinds are refused. */ namespacedOnly?: boolean },
): KubernetesObject[] {
  const objects: KubernetesObject[] = [];
  for (const file of yamlFiles(source)) {
    for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
      if (doc.errors.length > 0) {
        throw new InputError('MANIFEST_INVALID', `${file}: ${doc.errors[0]!.message}`);
      }
      const obj = doc.toJS() as KubernetesObject | null;
      if (obj === null) continue;
      if (!obj.apiVersion || !obj.kind || !obj.metadata?.name) {
        throw new InputError('MANIFEST_INVALID', `${file}: every document needs apiVersion, kind and metadata.name`);
      }
      if (obj.kind === 'Namespace') {
        throw new InputError('MANIFEST_INVALID', `${file}: ${obj.metadata.name} is a Namespace; the drill places everything in its own namespace, remove it`);
      }
      if (options.namespacedOnly && CLUSTER_SCOPED_KINDS.has(obj.kind)) {
        throw new InputError(
          'NOT_A_DRILL_TARGET',
          `${file}: ${obj.kind} ${obj.metadata.name} is cluster-wide; in a cluster the drill did not create it deploys only into namespace ${options.namespace}. ` +
            'Nothing was created from the manifests: remove it, or use a cluster the drill starts (provider: local or kind)',
        );
      }
      obj.metadata.namespace = options.namespace;
      obj.metadata.labels = { ...obj.metadata.labels, [MANAGED_BY_LABEL]: MANAGED_BY, [RUN_LABEL]: runLabelValue(options.runId) };
      if (options.databaseUrl !== undefined && obj.kind === 'Secret' && obj.metadata.name === DB_SECRET) {
        const secret = obj as KubernetesObject & { stringData?: Record<string, string>; data?: Record<string, string> };
        if (secret.data) delete secret.data[DB_URL_KEY];
        secret.stringData = { ...secret.stringData, [DB_URL_KEY]: options.databaseUrl };
      }
      objects.push(obj);
    }
  }
  return objects;
}
