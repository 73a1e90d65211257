import { parseSelector, SelectorSyntaxError } from '../targets/kubernetes/label-selector.js';
import type { PathIssue } from './issues.js';
import { isRecord } from './schema-walk.js';

/**
 * Cross-key rules of the Kubernetes vocabulary (see rules.ts for why they are not zod
 * refinements): what a provider needs, probes that name one thing to watch, selectors that
 * parse, and Kubernetes faults and steps in a scenario that has a cluster to act on.
 */
export function kubernetesIssues(data: unknown): PathIssue[] {
  const issues: PathIssue[] = [];
  const k8s = dig(data, 'targets', 'kubernetes');
  const hasK8s = isRecord(k8s);
  const hasPostgres = isRecord(dig(data, 'targets', 'postgres'));
  if (hasK8s && k8s.provider === 'kubeconfig' && typeof k8s.namespace !== 'string') {
    issues.push({
      path: ['targets', 'kubernetes', 'namespace'],
      at: ['targets', 'kubernetes', 'provider'],
      anchor: 'value',
      message: 'required when provider is "kubeconfig": the namespace the drill may deploy into and damage, labelled drill.dev/target=true',
    });
  }
  const needK8s = (path: Array<string | number>, what: string) => {
    if (!hasK8s) issues.push({ path, anchor: 'value', message: `${what} acts on Kubernetes: add targets.kubernetes (e.g. kubernetes: {provider: auto})` });
  };

  const probes = dig(data, 'workload', 'probes');
  if (Array.isArray(probes)) {
    probes.forEach((p, i) => {
      if (!isRecord(p) || p.type !== 'k8s-ready') return;
      needK8s(['workload', 'probes', i, 'type'], 'a k8s-ready probe');
      const named = ['deployment', 'endpoints'].filter((k) => p[k] !== undefined);
      if (named.length !== 1) {
        issues.push({
          path: ['workload', 'probes', i, 'type'],
          anchor: 'value',
          message: named.length === 0 ? 'name what to watch: deployment: <name> (available replicas) or endpoints: <service> (ready endpoints)' : 'name either deployment or endpoints, not both',
        });
      }
    });
  }

  const faults = dig(data, 'faults');
  if (Array.isArray(faults)) {
    faults.forEach((f, i) => {
      if (!isRecord(f) || typeof f.type !== 'string' || !f.type.startsWith('k8s-')) return;
      needK8s(['faults', i, 'type'], f.type);
      if (f.type === 'k8s-pod-kill' && typeof f.selector === 'string') {
        try {
          parseSelector(f.selector);
        } catch (error) {
          if (!(error instanceof SelectorSyntaxError)) throw error;
          issues.push({ path: ['faults', i, 'selector'], anchor: 'value', message: error.message });
        }
      }
      if (f.type === 'k8s-node-failure' && hasK8s && k8s.provider === 'kubeconfig') {
        issues.push({
          path: ['faults', i, 'type'],
          anchor: 'value',
          message: 'a node failure hits every namespace on the node, and a kubeconfig cluster is not the drill\'s own; use provider: local or kind',
        });
      }
    });
  }

  const hasNodeFault = Array.isArray(faults) && faults.some((f) => isRecord(f) && f.type === 'k8s-node-failure');
  const steps = dig(data, 'recovery');
  if (Array.isArray(steps)) {
    steps.forEach((s, i) => {
      if (!isRecord(s) || typeof s.step !== 'string' || !s.step.startsWith('k8s-')) return;
      needK8s(['recovery', i, 'step'], s.step);
      if (NODE_STEPS.has(s.step)) {
        if (hasK8s && k8s.provider === 'kubeconfig') {
          issues.push({ path: ['recovery', i, 'step'], anchor: 'value', message: `${s.step} acts on a node every namespace shares, and a kubeconfig cluster is not the drill's own; use provider: local or kind` });
        }
        if ((s.node === undefined || s.node === 'failed') && !hasNodeFault) {
          issues.push({ path: ['recovery', i, s.node === undefined ? 'step' : 'node'], anchor: 'value', message: 'node: failed (the default) is the node a k8s-node-failure fault took down, and there is none; name the node' });
        }
      }
      if (s.step === 'k8s-secret-patch' && (s.value === undefined || s.value === 'current-primary') && !hasPostgres) {
        issues.push({
          path: ['recovery', i, 'step'],
          anchor: 'value',
          message: 'value current-primary (the default) is the drill database\'s URL: add targets.postgres, or give value: {value: ...}',
        });
      }
    });
  }
  return issues;
}

const NODE_STEPS = new Set(['k8s-cordon', 'k8s-drain', 'k8s-delete-node']);

function dig(data: unknown, ...keys: string[]): unknown {
  let current = data;
  for (const key of keys) current = isRecord(current) ? current[key] : undefined;
  return current;
}
