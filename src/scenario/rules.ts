import type { PathIssue } from './issues.js';
import { formatDuration, parseDuration } from './duration.js';
import { waitBudgetMs } from '../engine/step-wait-budget.js';
import { isRecord } from './schema-walk.js';
import { datasetIssues } from './dataset-rules.js';
import { kubernetesIssues } from './kubernetes-rules.js';
import { needsIssues } from './needs-rules.js';
import { serviceIssues } from './service-rules.js';
import { regionsIssues } from './regions-rules.js';
import { regionPartitionIssues } from './region-partition-rules.js';
import { breachIssues } from './breach-rules.js';
import { networkIssues } from './network-rules.js';
import { replicationLinkIssues } from './replication-link-rules.js';
import { diskIssues } from './disk-rules.js';
import { resourceIssues } from './resource-rules.js';
import { incidentIssues } from './incident-rules.js';
import { clockIssues } from './clock-rules.js';

/**
 * Rules that span several keys. They live here rather than as zod refinements so they run even
 * when other parts of the file are invalid (every problem in one pass) and keep the generated
 * JSON Schema plain.
 */
export function crossFieldIssues(data: unknown): PathIssue[] {
  const issues: PathIssue[] = [];
  const postgres = dig(data, 'targets', 'postgres');
  if (isRecord(postgres) && postgres.provider === 'external' && !postgres.url) {
    issues.push({
      path: ['targets', 'postgres', 'url'],
      at: ['targets', 'postgres', 'provider'],
      anchor: 'value',
      message: 'required when provider is "external" (a connection URL, e.g. url: ${DRILL_PG_URL})',
    });
  }
  if (isRecord(postgres) && postgres.image !== undefined && (postgres.provider === 'native' || postgres.provider === 'external')) {
    issues.push({
      path: ['targets', 'postgres', 'image'],
      anchor: 'key',
      message: `an image is run by provider: testcontainers (or auto) only; remove it or change the provider (now ${postgres.provider})`,
    });
  }
  issues.push(...replicaIssues(data));
  issues.push(...fatFingerIssues(data));
  issues.push(...kubernetesIssues(data));
  issues.push(...needsIssues(data));
  issues.push(...datasetIssues(data));
  issues.push(...serviceIssues(data));
  issues.push(...regionsIssues(data));
  issues.push(...regionPartitionIssues(data));
  issues.push(...breachIssues(data));
  issues.push(...networkIssues(data));
  issues.push(...replicationLinkIssues(data));
  issues.push(...diskIssues(data));
  issues.push(...resourceIssues(data));
  issues.push(...incidentIssues(data));
  issues.push(...clockIssues(data));
  return issues;
}

/** pg-fat-finger: an UPDATE needs its SET list; a DELETE has none. */
function fatFingerIssues(data: unknown): PathIssue[] {
  const faults = dig(data, 'faults');
  if (!Array.isArray(faults)) return [];
  return faults.flatMap((fault, i): PathIssue[] => {
    if (!isRecord(fault) || fault.type !== 'pg-fat-finger') return [];
    if (fault.statement === 'update' && typeof fault.set !== 'string') {
      return [{ path: ['faults', i, 'statement'], anchor: 'value', message: 'an update needs `set`, the SET list it applies to every row (e.g. set: "balance = 0")' }];
    }
    if (fault.statement === 'delete' && fault.set !== undefined) {
      return [{ path: ['faults', i, 'set'], anchor: 'key', message: 'only an update has a SET list; remove `set` or use statement: update' }];
    }
    return [];
  });
}

/** Replica faults and steps need replicas to act on, of a kind they can act on. */
function replicaIssues(data: unknown): PathIssue[] {
  const issues: PathIssue[] = [];
  const postgres = dig(data, 'targets', 'postgres');
  const count = isRecord(postgres) && typeof postgres.replicas === 'number' ? postgres.replicas : 0;
  const names = Array.from({ length: count }, (_, i) => `replica-${i + 1}`);
  if (count > 0 && isRecord(postgres) && postgres.provider === 'external') {
    issues.push({
      path: ['targets', 'postgres', 'replicas'],
      anchor: 'value',
      message: 'the drill cannot create streaming replicas of an external server; use provider: native or testcontainers (or auto)',
    });
  }
  const uses = (list: unknown, key: string, kind: string): Array<[number, Record<string, unknown>]> =>
    Array.isArray(list) ? list.flatMap((item, i) => (isRecord(item) && item[key] === kind ? [[i, item] as [number, Record<string, unknown>]] : [])) : [];
  const faults = dig(data, 'faults');
  const users = [
    ...uses(faults, 'type', 'pg-replication-lag').map(([i, item]) => ({ path: ['faults', i] as const, item })),
    ...uses(dig(data, 'recovery'), 'step', 'promote-replica').map(([i, item]) => ({ path: ['recovery', i] as const, item })),
  ];
  for (const { path, item } of users) {
    // No replicas at all is the `replica` need of these variants (needs-rules.ts).
    if (count > 0 && typeof item.replica === 'string' && !names.includes(item.replica)) {
      issues.push({ path: [...path, 'replica'], anchor: 'value', message: `there is no replica "${item.replica}"; the replicas are ${names.join(', ')}` });
    }
  }
  // A failover threshold must leave the promotion time inside the step's own budget (the step gives
  // up a little before the engine's timeout): at most half of it.
  for (const [i, item] of uses(dig(data, 'recovery'), 'step', 'promote-replica')) {
    const threshold = durationOf(item.unreachableFor);
    if (threshold === undefined) continue;
    const timeout = durationOf(item.timeout) ?? DEFAULT_STEP_TIMEOUT_MS;
    const room = waitBudgetMs(timeout) / 2;
    if (threshold > room) {
      issues.push({
        path: ['recovery', i, 'unreachableFor'],
        anchor: 'value',
        message: `a threshold of ${formatDuration(threshold)} leaves no time to promote within the step's timeout of ${formatDuration(timeout)}: keep unreachableFor at most ${formatDuration(room)}, or raise timeout`,
      });
    }
  }
  for (const [i] of uses(faults, 'type', 'pg-replication-lag')) {
    if (isRecord(postgres) && postgres.replication === 'sync') {
      issues.push({
        path: ['faults', i, 'type'],
        anchor: 'value',
        message: 'holding back a synchronous replica stops every commit instead of losing writes; set targets.postgres.replication: async',
      });
    }
    const later = Array.isArray(faults) ? faults.slice(i + 1).some((f) => isRecord(f) && f.type !== 'pg-replication-lag') : false;
    if (!later) {
      issues.push({
        path: ['faults', i, 'type'],
        anchor: 'value',
        message: 'a precondition that does not set T_fault; follow it with the fault itself (e.g. pg-primary-crash)',
      });
    }
  }
  return issues;
}

function dig(data: unknown, ...keys: string[]): unknown {
  let current = data;
  for (const key of keys) current = isRecord(current) ? current[key] : undefined;
  return current;
}

/** The steps' default timeout (stepBase in schema.ts). */
const DEFAULT_STEP_TIMEOUT_MS = 600_000;

/** A duration as written (`5s`, or a number of ms), before the schema parsed it. */
function durationOf(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  return typeof value === 'string' ? parseDuration(value) : undefined;
}
