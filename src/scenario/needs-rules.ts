import type { PathIssue } from './issues.js';
import { isRecord, schemaAt } from './schema-walk.js';
import { scenarioSchema } from './schema.js';
import { conditionalNeedsOf, needsOf, type TargetNeed } from './target-needs.js';

/**
 * Faults, recovery and verify steps and probes whose variant needs a target the scenario lacks:
 * what each needs is declared on its schema variant (target-needs.ts); here only what each need
 * asks of `targets`, and the sentence that says how to provide it. A need that comes with a
 * setting (an http probe's `target: service`) is reported at that setting.
 */
export function needsIssues(data: unknown): PathIssue[] {
  const targets = isRecord(data) && isRecord(data.targets) ? data.targets : {};
  const issues: PathIssue[] = [];
  for (const [listPath, discriminator] of LISTS) {
    const list = dig(data, listPath);
    if (!Array.isArray(list)) continue;
    list.forEach((item, i) => {
      if (!isRecord(item) || typeof item[discriminator] !== 'string') return;
      const path = [...listPath, i];
      const variant = schemaAt(scenarioSchema, data, path);
      const name = String(item[discriminator]);
      for (const need of needsOf(variant) ?? []) {
        const message = UNMET[need](targets, name);
        if (message) issues.push({ path: [...path, discriminator], anchor: 'value', message });
      }
      for (const { key, value, needs } of conditionalNeedsOf(variant)) {
        if (item[key] !== value) continue;
        for (const need of needs) {
          const message = UNMET[need](targets, `${name} with ${key}: ${value}`);
          if (message) issues.push({ path: [...path, key], anchor: 'value', message });
        }
      }
    });
  }
  return issues;
}

/**
 * Every need the scenario's faults, steps and probes declare (their settings' conditional needs
 * included), e.g. to tell whether a drill may run on a cluster it shares with others.
 */
export function declaredNeeds(data: unknown): Set<TargetNeed> {
  const found = new Set<TargetNeed>();
  for (const [listPath, discriminator] of LISTS) {
    const list = dig(data, listPath);
    if (!Array.isArray(list)) continue;
    list.forEach((item, i) => {
      if (!isRecord(item) || typeof item[discriminator] !== 'string') return;
      const variant = schemaAt(scenarioSchema, data, [...listPath, i]);
      for (const need of needsOf(variant) ?? []) found.add(need);
      for (const { key, value, needs } of conditionalNeedsOf(variant)) if (item[key] === value) for (const need of needs) found.add(need);
    });
  }
  return found;
}

const LISTS: Array<[string[], string]> = [
  [['workload', 'probes'], 'type'],
  [['faults'], 'type'],
  [['recovery'], 'step'],
  [['verify'], 'step'],
];

/** Undefined when `targets` provides `need`; otherwise what to do, for `name` (a variant, or a setting that needs it). */
export function unmetNeed(need: TargetNeed, targets: Record<string, unknown>, name: string): string | undefined {
  return UNMET[need](targets, name);
}

/** Undefined when `targets` provides the need; otherwise what to do, for the variant `name`. */
const UNMET: Record<TargetNeed, (targets: Record<string, unknown>, name: string) => string | undefined> = {
  postgres: (t, name) => (isRecord(t.postgres) ? undefined : `${name} acts on PostgreSQL: add targets.postgres (e.g. postgres: {provider: auto})`),
  kubernetes: (t, name) => (isRecord(t.kubernetes) ? undefined : `${name} acts on Kubernetes: add targets.kubernetes (e.g. kubernetes: {provider: auto})`),
  // Without a cluster at all, the kubernetes need already says what to add.
  'own-cluster': (t, name) =>
    isRecord(t.kubernetes) && t.kubernetes.provider === 'kubeconfig'
      ? `${name} acts on nodes, which every namespace shares, and a kubeconfig cluster is not the drill's own; use provider: local or kind`
      : undefined,
  // The one place that says which targets give the service's endpoints: plain processes
  // (targets.service), by name in two regions (targets.regions), or the built-in system on
  // Kubernetes with its database (KubernetesService).
  service: (t, name) =>
    isRecord(t.service) || isRecord(t.regions) || (isRecord(t.kubernetes) && t.kubernetes.manifests === undefined && isRecord(t.postgres))
      ? undefined
      : `${name} talks to the service: add targets.service (e.g. service: {version: 4.4.0}), or run the built-in system on Kubernetes (targets.kubernetes with targets.postgres)`,
  regions: (t, name) => (isRecord(t.regions) ? undefined : `${name} acts on regions: add targets.regions (e.g. regions: {primary: {name: us-west-2}, dr: {name: us-east-1}})`),
  network: (t, name) => (isRecord(t.network) ? undefined : `${name} acts on the link between the application and its database: add targets.network (e.g. network: {proxy: toxiproxy})`),
  'service-processes': (t, name) =>
    isRecord(t.service)
      ? undefined
      : `${name} restarts the service's plain processes on this machine: add targets.service (e.g. service: {version: 4.4.0}); not for Kubernetes pods or targets.regions`,
  replica: (t) =>
    isRecord(t.postgres) && !(typeof t.postgres.replicas === 'number' && t.postgres.replicas > 0)
      ? 'needs a streaming replica: set targets.postgres.replicas: 1 or more'
      : undefined,
};

function dig(data: unknown, keys: string[]): unknown {
  let current = data;
  for (const key of keys) current = isRecord(current) ? current[key] : undefined;
  return current;
}
