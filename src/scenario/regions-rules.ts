import type { PathIssue } from './issues.js';
import { isRecord } from './schema-walk.js';

/**
 * Cross-key rules of the region vocabulary (see rules.ts for why they are not zod refinements):
 * where targets.regions may be, and that the region a fault or a step names is one of its two.
 */
export function regionsIssues(data: unknown): PathIssue[] {
  if (!isRecord(data) || !isRecord(data.targets) || !isRecord(data.targets.regions)) return [];
  const targets = data.targets;
  const regions = data.targets.regions;
  const issues: PathIssue[] = [];
  if (!isRecord(targets.postgres)) {
    issues.push({ path: ['targets', 'regions'], anchor: 'key', message: "the regions' service runs against the drill's PostgreSQL: add targets.postgres (e.g. postgres: {provider: auto})" });
  }
  for (const other of ['service', 'kubernetes'] as const) {
    if (isRecord(targets[other])) {
      issues.push({ path: ['targets', 'regions'], anchor: 'key', message: `targets.regions runs the service in each region itself; remove targets.${other} (or targets.regions)` });
    }
  }
  const nameOf = (role: 'primary' | 'dr', fallback: string) => {
    const region = regions[role];
    return isRecord(region) && typeof region.name === 'string' ? region.name : fallback;
  };
  const known = ['primary', 'dr', nameOf('primary', 'us-west-2'), nameOf('dr', 'us-east-1')];
  const check = (list: unknown, key: string, field: string, variant: string) => {
    if (!Array.isArray(list)) return;
    list.forEach((item, i) => {
      if (!isRecord(item) || item[key] !== variant || typeof item[field] !== 'string' || known.includes(item[field])) return;
      issues.push({ path: [key === 'type' ? 'faults' : 'recovery', i, field], anchor: 'value', message: `no region ${item[field]}: name one of ${known.join(', ')}` });
    });
  };
  check(data.faults, 'type', 'region', 'region-outage');
  check(data.recovery, 'step', 'to', 'dns-failover');
  return issues;
}
