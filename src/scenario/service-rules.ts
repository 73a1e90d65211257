import type { PathIssue } from './issues.js';
import { unmetNeed } from './needs-rules.js';
import { isRecord } from './schema-walk.js';

/**
 * Cross-key rules of the service vocabulary (see rules.ts for why they are not zod refinements):
 * where targets.service may be, the settings that need the service's endpoints (the canary and
 * the load run; probe and step variants declare it on the schema), http probes that name one
 * thing to GET, and load settings that the verify steps and limits rely on.
 */
export function serviceIssues(data: unknown): PathIssue[] {
  const issues: PathIssue[] = [];
  const targets = dig(data, 'targets');
  const service = dig(data, 'targets', 'service');
  const hasService = isRecord(service);
  if (hasService && !isRecord(dig(data, 'targets', 'postgres'))) {
    issues.push({ path: ['targets', 'service'], anchor: 'key', message: 'the service runs against the drill\'s PostgreSQL: add targets.postgres (e.g. postgres: {provider: auto})' });
  }
  if (hasService && isRecord(targets) && isRecord(targets.kubernetes)) {
    issues.push({
      path: ['targets', 'service'],
      anchor: 'key',
      message: 'with targets.kubernetes the service runs in the cluster (its manifests); targets.service starts it as plain processes for drills without Kubernetes: remove one of them',
    });
  }
  // What the canary and the load run need: they are settings, not union variants, so they are
  // checked here; the probe, smoke, load and service-restart variants declare it (needs-rules.ts).
  const needEndpoints = (path: Array<string | number>, what: string) => {
    const message = unmetNeed('service', isRecord(targets) ? targets : {}, what);
    if (message) issues.push({ path, anchor: 'value', message });
  };

  const probes = dig(data, 'workload', 'probes');
  if (Array.isArray(probes)) {
    probes.forEach((p, i) => {
      if (!isRecord(p) || p.type !== 'http') return;
      const at = ['workload', 'probes', i];
      if ((p.url === undefined) === (p.target === undefined)) {
        issues.push({
          path: [...at, 'type'],
          anchor: 'value',
          message: p.url === undefined ? 'name what to GET: url: <a fixed URL>, or target: service (with path, default /health)' : 'give either url or target, not both',
        });
      }
      if (p.url !== undefined) {
        for (const key of ['path', 'component']) {
          if (p[key] !== undefined) issues.push({ path: [...at, key], anchor: 'key', message: `${key} goes with target: service; a url probe GETs its url as written` });
        }
      }
    });
  }

  if (dig(data, 'workload', 'canary', 'via') === 'api') needEndpoints(['workload', 'canary', 'via'], 'the API canary (via: api)');
  if (isRecord(dig(data, 'workload', 'load'))) needEndpoints(['workload', 'load'], 'the load run');

  const uses = (list: unknown, step: string, where: string) =>
    Array.isArray(list) ? list.flatMap((s, i) => (isRecord(s) && s.step === step ? [[where, i] as [string, number]] : [])) : [];
  const loads = uses(dig(data, 'verify'), 'load', 'verify');
  const hasLoad = isRecord(dig(data, 'workload', 'load'));
  for (const [where, i] of loads) {
    if (!hasLoad) {
      issues.push({ path: [where, i, 'step'], anchor: 'value', message: 'a load step repeats workload.load after recovery: add workload.load (e.g. load: {path: /health, requests: 1000, connections: 10})' });
    }
  }
  if (isRecord(dig(data, 'expect', 'performance')) && loads.length === 0) {
    issues.push({
      path: ['expect', 'performance'],
      anchor: 'key',
      message: 'performance is judged on a load run after recovery: add `- step: load` to verify (and workload.load), or remove expect.performance',
    });
  }
  const load = dig(data, 'workload', 'load');
  if (isRecord(load) && load.driver === 'ab' && typeof load.path === 'string' && load.path.startsWith('/api/')) {
    issues.push({
      path: ['workload', 'load', 'driver'],
      anchor: 'value',
      message: 'ab can send the API token only on its command line, where every user of the machine can read it; use driver: autocannon or k6 for /api/ paths',
    });
  }
  return issues;
}

function dig(data: unknown, ...keys: string[]): unknown {
  let current = data;
  for (const key of keys) current = isRecord(current) ? current[key] : undefined;
  return current;
}
