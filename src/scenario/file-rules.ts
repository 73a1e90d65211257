import { parseDocument } from 'yaml';
import { DrillError } from '../engine/errors.js';
import { readManifests } from '../targets/kubernetes/manifest-set.js';
import type { Env } from './interpolate.js';
import type { PathIssue } from './issues.js';
import { MAX_SOURCE_BYTES, readRegularFile } from './read-source.js';
import { resolveFromScenario } from './scenario-paths.js';
import { isRecord } from './schema-walk.js';
import type { KeyPath } from './yaml-locate.js';
import { structureIssues } from './yaml-structure.js';

/**
 * The files a scenario names, checked at validation so `drill run` cannot fail on them after
 * provisioning: the system-under-drill manifests (read and checked document by document) and the
 * kubeconfig (readable, the context there, and allowed). What only the cluster can answer
 * (whether a kind is namespaced, the namespace label) is checked at the start of the run.
 */
export interface FileContext {
  scenarioFile: string;
  env: Env;
  /** Values from `${VAR}` are not echoed: a path can say more than its owner wants shown. */
  isSecret: (path: KeyPath) => boolean;
}

const K8S = ['targets', 'kubernetes'] as const;

export async function fileIssues(data: unknown, context: FileContext): Promise<PathIssue[]> {
  const k8s = isRecord(data) && isRecord(data.targets) ? data.targets.kubernetes : undefined;
  if (!isRecord(k8s)) return [];
  // A path still holding an unset `${VAR}` names no real file; the unset variable is reported (or,
  // for `drill list`, deliberately not required).
  if ([k8s.manifests, k8s.kubeconfig].some((p) => typeof p === 'string' && p.includes('${'))) return [];
  return [...(await manifestIssues(k8s, context)), ...(await kubeconfigIssues(k8s, context))];
}

async function manifestIssues(k8s: Record<string, unknown>, context: FileContext): Promise<PathIssue[]> {
  if (typeof k8s.manifests !== 'string') return [];
  const path = [...K8S, 'manifests'];
  const source = resolveFromScenario(context.scenarioFile, k8s.manifests);
  try {
    await readManifests(source);
    return [];
  } catch (error) {
    if (!(error instanceof DrillError)) throw error;
    const message = error.message.replace(/^targets\.kubernetes\.manifests: /, '');
    return [{ path, anchor: 'value', message: hide(message, context.isSecret(path) ? [k8s.manifests, source] : []) }];
  }
}

async function kubeconfigIssues(k8s: Record<string, unknown>, context: FileContext): Promise<PathIssue[]> {
  const allowed = Array.isArray(k8s.allowedContexts) ? k8s.allowedContexts.filter((c): c is string => typeof c === 'string') : undefined;
  if (k8s.provider !== 'kubeconfig') {
    return allowed
      ? [{ path: [...K8S, 'allowedContexts'], anchor: 'key', message: 'only a kubeconfig cluster has contexts to allow; remove it, or set provider: kubeconfig' }]
      : [];
  }
  const given = typeof k8s.kubeconfig === 'string';
  const keyPath = [...K8S, given ? 'kubeconfig' : 'provider'];
  const { defaultKubeconfigPath } = await import('../targets/kubernetes/kubeconfig-cluster.js');
  const file = given ? resolveFromScenario(context.scenarioFile, k8s.kubeconfig as string) : defaultKubeconfigPath(context.env as NodeJS.ProcessEnv);
  const secrets = given && context.isSecret(keyPath) ? [k8s.kubeconfig as string, file] : [];
  const problem = (message: string, at: KeyPath = keyPath): PathIssue[] => [{ path: at, anchor: 'value', message: hide(message, secrets) }];
  const which = given ? `kubeconfig ${file}` : `the default kubeconfig ${file} ($KUBECONFIG, else ~/.kube/config)`;

  const read = await readRegularFile(file, MAX_SOURCE_BYTES);
  if (!read.ok) {
    const hint = given ? (read.missing ? ' (a relative path is read from the scenario file\'s directory)' : '') : '; set targets.kubernetes.kubeconfig';
    return problem(`${which}: ${read.message}${hint}`);
  }
  const text = read.bytes.toString('utf8');
  const doc = parseDocument(text);
  const shape = doc.errors.length ? doc.errors[0]!.message : structureIssues(doc)[0]?.message;
  if (shape) return problem(`${which} is not a kubeconfig: ${shape}`);
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  try {
    kc.loadFromString(text);
  } catch (error) {
    return problem(`${which} is not a kubeconfig: ${(error as Error).message}`);
  }
  const contexts = kc.getContexts().map((c) => c.name);
  const wanted = typeof k8s.context === 'string' ? k8s.context : kc.getCurrentContext();
  const contextKey = typeof k8s.context === 'string' ? [...K8S, 'context'] : keyPath;
  if (!wanted || !contexts.includes(wanted)) {
    const named = typeof k8s.context === 'string' ? `context "${wanted}"` : `current-context "${wanted || '(none)'}"`;
    return problem(`${which} has no ${named}; it has: ${contexts.join(', ') || 'no contexts'}`, contextKey);
  }
  if (allowed && !allowed.includes(wanted)) {
    return problem(
      `context "${wanted}"${typeof k8s.context === 'string' ? '' : ` (the current-context of ${which})`} is not in allowedContexts (${allowed.join(', ')}); ` +
        'name an allowed context, or add it only if its cluster is meant for drills',
      typeof k8s.context === 'string' ? contextKey : [...K8S, 'allowedContexts'],
    );
  }
  return [];
}

function hide(message: string, secrets: string[]): string {
  // Longest first: the path as written is often the tail of the resolved one.
  return [...secrets].sort((a, b) => b.length - a.length).reduce((text, secret) => (secret ? text.replaceAll(secret, '(the path from the environment)') : text), message);
}
