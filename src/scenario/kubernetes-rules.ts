import { parseSelector, SelectorSyntaxError } from '../targets/kubernetes/label-selector.js';
import type { PathIssue } from './issues.js';
import { isRecord, keysOf, schemaAt } from './schema-walk.js';
import { scenarioSchema } from './schema.js';

/**
 * Cross-key rules of the Kubernetes vocabulary (see rules.ts for why they are not zod
 * refinements): what a provider needs, probes that name one thing to watch, selectors that
 * parse, node references that name a node. Which target a fault or step needs is declared on its
 * schema variant and checked by needs-rules.ts.
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
  const probes = dig(data, 'workload', 'probes');
  if (Array.isArray(probes)) {
    probes.forEach((p, i) => {
      if (!isRecord(p) || p.type !== 'k8s-ready') return;
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
      if (!isRecord(f)) return;
      if (f.type === 'k8s-pod-kill' && typeof f.selector === 'string') {
        try {
          parseSelector(f.selector);
        } catch (error) {
          if (!(error instanceof SelectorSyntaxError)) throw error;
          issues.push({ path: ['faults', i, 'selector'], anchor: 'value', message: error.message });
        }
      }
    });
  }

  const hasNodeFault = Array.isArray(faults) && faults.some((f) => isRecord(f) && f.type === 'k8s-node-failure');
  const steps = dig(data, 'recovery');
  if (Array.isArray(steps)) {
    steps.forEach((s, i) => {
      if (!isRecord(s)) return;
      // Steps that take a `node` default to the node a k8s-node-failure took down.
      if (keysOf(schemaAt(scenarioSchema, data, ['recovery', i])).includes('node') && (s.node === undefined || s.node === 'failed') && !hasNodeFault) {
        issues.push({ path: ['recovery', i, s.node === undefined ? 'step' : 'node'], anchor: 'value', message: 'node: failed (the default) is the node a k8s-node-failure fault took down, and there is none; name the node' });
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

function dig(data: unknown, ...keys: string[]): unknown {
  let current = data;
  for (const key of keys) current = isRecord(current) ? current[key] : undefined;
  return current;
}
