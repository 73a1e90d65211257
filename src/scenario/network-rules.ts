import type { PathIssue } from './issues.js';
import { isRecord } from './schema-walk.js';

/**
 * Where targets.network may be (see rules.ts for why this is not a zod refinement): in front of
 * the drill's PostgreSQL, for plain processes and the SQL workload. Pods reach the database at the
 * drill network's host address and the regions' service is started by targets.regions, neither
 * through the proxy's loopback listener: a fault there would degrade nothing they use.
 */
export function networkIssues(data: unknown): PathIssue[] {
  if (!isRecord(data) || !isRecord(data.targets) || !isRecord(data.targets.network)) return [];
  const targets = data.targets;
  const issues: PathIssue[] = [];
  if (!isRecord(targets.postgres)) {
    issues.push({ path: ['targets', 'network'], anchor: 'key', message: "targets.network is the link to the drill's PostgreSQL: add targets.postgres (e.g. postgres: {provider: auto})" });
  }
  for (const other of ['kubernetes', 'regions'] as const) {
    if (isRecord(targets[other])) {
      issues.push({
        path: ['targets', 'network'],
        anchor: 'key',
        message: `targets.network proxies loopback connections of plain processes (targets.service) and the SQL workload; the processes of targets.${other} do not go through it: remove one of them`,
      });
    }
  }
  return issues;
}
