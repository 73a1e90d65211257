import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KubernetesObject } from '@kubernetes/client-node';
import { LineCounter, parseAllDocuments } from 'yaml';
import { InputError } from '../../engine/errors.js';
import { MAX_SOURCE_BYTES, readRegularFile } from '../../scenario/read-source.js';
import { structureIssues } from '../../scenario/yaml-structure.js';

/** The system under drill shipped with the harness: TrustStram's Deployments, Service, config and secret. */
export const BUILTIN_MANIFESTS = path.join(path.dirname(fileURLToPath(import.meta.url)), 'manifests', 'truststream');

/** Marks everything the harness applied, so it can remove exactly that from a namespace it does not own. */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'drill';
export const RUN_LABEL = 'drill.dev/run';

/** The Secret and key the runbook's "Update application connection strings" patches. */
export const DB_SECRET = 'truststream-db-credentials';
export const DB_URL_KEY = 'DATABASE_URL';
/** The reader mode's read-only connection (the service's READER_DATABASE_URL). */
export const READER_DB_URL_KEY = 'READER_DATABASE_URL';

/** A directory of manifests holds a system, not a cluster's worth: more files than this is a wrong path. */
export const MAX_MANIFEST_FILES = 200;

/** A run id as a label value: at most 63 characters of [A-Za-z0-9_.-], alphanumeric at both ends. */
export function runLabelValue(runId: string): string {
  return runId.replace(/[^A-Za-z0-9_.-]/g, '-').slice(-63).replace(/^[^A-Za-z0-9]+/, '').replace(/[^A-Za-z0-9]+$/, '') || 'run';
}

const notFound = (message: string) => new InputError('MANIFESTS_NOT_FOUND', `targets.kubernetes.manifests: ${message}`);
const invalid = (file: string, message: string) => new InputError('MANIFEST_INVALID', `targets.kubernetes.manifests: ${file}: ${message}`);

async function yamlFiles(source: string): Promise<string[]> {
  let stats;
  try {
    stats = await stat(source);
  } catch {
    throw notFound(`${source} does not exist; give a YAML file or a directory of them`);
  }
  if (stats.isFile()) return [source];
  if (!stats.isDirectory()) throw notFound(`${source} is neither a file nor a directory`);
  const files = (await readdir(source, { withFileTypes: true }))
    .filter((entry) => /\.ya?ml$/.test(entry.name) && !entry.isDirectory())
    .map((entry) => entry.name)
    .sort()
    .map((name) => path.join(source, name));
  if (files.length === 0) throw notFound(`${source} holds no .yaml files`);
  if (files.length > MAX_MANIFEST_FILES) throw notFound(`${source} holds ${files.length} .yaml files, more than the ${MAX_MANIFEST_FILES} a system under drill may have`);
  return files;
}

/**
 * The objects of a manifest file or directory, in file order, as written: read (regular files of
 * at most 1 MiB each) and checked without a cluster, so `drill validate` finds what `drill run`
 * would otherwise find only after provisioning. Throws InputError naming the file and line.
 */
export async function readManifests(source: string): Promise<KubernetesObject[]> {
  const objects: KubernetesObject[] = [];
  for (const file of await yamlFiles(source)) {
    const read = await readRegularFile(file, MAX_SOURCE_BYTES);
    if (!read.ok) throw invalid(file, read.message);
    const lineCounter = new LineCounter();
    const docs = parseAllDocuments(read.bytes.toString('utf8'), { lineCounter });
    // parseAllDocuments returns an EmptyStream (not an array) for a file without documents.
    for (const doc of Array.isArray(docs) ? docs : []) {
      const at = (offset: number) => `line ${lineCounter.linePos(offset).line}`;
      if (doc.errors.length > 0) throw invalid(file, `${at(doc.errors[0]!.pos[0])}: ${doc.errors[0]!.message}`);
      const shape = structureIssues(doc);
      if (shape.length > 0) throw invalid(file, `${at(shape[0]!.offset)}: ${shape[0]!.message}`);
      let obj: KubernetesObject | null;
      try {
        obj = doc.toJS() as KubernetesObject | null;
      } catch (error) {
        throw invalid(file, `cannot read the YAML: ${(error as Error).message}`);
      }
      if (obj === null || obj === undefined) continue;
      const where = at((doc.contents?.range ?? doc.range)[0]);
      if (typeof obj !== 'object' || Array.isArray(obj) || !obj.apiVersion || !obj.kind || !obj.metadata?.name) {
        throw invalid(file, `${where}: every document needs apiVersion, kind and metadata.name`);
      }
      if (obj.kind === 'Namespace') {
        throw invalid(file, `${where}: ${obj.metadata.name} is a Namespace; the drill places everything in its own namespace, remove it`);
      }
      objects.push(obj);
    }
  }
  return objects;
}

/**
 * The objects placed in `namespace` and labelled as the harness's. When a database URL is given
 * and the set has the DATABASE_URL Secret, the URL goes into it (as stringData: the apiserver
 * encodes it; the value never passes through a log or the journal).
 */
export function placeManifests(objects: KubernetesObject[], options: { namespace: string; runId: string; databaseUrl?: string; readerDatabaseUrl?: string }): KubernetesObject[] {
  return objects.map((original) => {
    const obj = structuredClone(original);
    obj.metadata = { ...obj.metadata, namespace: options.namespace };
    obj.metadata.labels = { ...obj.metadata.labels, [MANAGED_BY_LABEL]: MANAGED_BY, [RUN_LABEL]: runLabelValue(options.runId) };
    if (options.databaseUrl !== undefined && obj.kind === 'Secret' && obj.metadata.name === DB_SECRET) {
      const secret = obj as KubernetesObject & { stringData?: Record<string, string>; data?: Record<string, string> };
      if (secret.data) delete secret.data[DB_URL_KEY];
      secret.stringData = { ...secret.stringData, [DB_URL_KEY]: options.databaseUrl };
      if (options.readerDatabaseUrl !== undefined) {
        if (secret.data) delete secret.data[READER_DB_URL_KEY];
        secret.stringData[READER_DB_URL_KEY] = options.readerDatabaseUrl;
      }
    }
    return obj;
  });
}

/** readManifests then placeManifests. */
export async function loadManifests(source: string, options: { namespace: string; runId: string; databaseUrl?: string; readerDatabaseUrl?: string }): Promise<KubernetesObject[]> {
  return placeManifests(await readManifests(source), options);
}
