import type { PathIssue } from './issues.js';
import { parseDuration } from './duration.js';
import { isRecord } from './schema-walk.js';

const NETWORK_FAULTS = new Set(['network-latency', 'network-bandwidth', 'network-reset', 'network-timeout']);

/**
 * Network faults on the replication link (`link: replication`, see network-schema.ts): the
 * replicas are built streaming through a proxy on this machine's loopback, which only the native
 * provider's replicas reach; `holdFor` makes the fault the precondition of a later one, so there
 * must be one; pg-replication-lag, which stops the replicas streaming, does not go with it; and
 * the step that heals that link needs a fault on it to heal.
 */
export function replicationLinkIssues(data: unknown): PathIssue[] {
  if (!isRecord(data) || !Array.isArray(data.faults)) return [];
  const faults = data.faults;
  const postgres = isRecord(data.targets) && isRecord(data.targets.postgres) ? data.targets.postgres : undefined;
  const issues: PathIssue[] = [];
  let onReplication = false;
  faults.forEach((fault, i) => {
    if (!isRecord(fault) || typeof fault.type !== 'string' || !NETWORK_FAULTS.has(fault.type)) return;
    const replication = fault.link === 'replication';
    if (replication) onReplication = true;
    if (replication && postgres && (postgres.provider === 'testcontainers' || postgres.provider === 'external')) {
      issues.push({
        path: ['faults', i, 'link'],
        anchor: 'value',
        message:
          `the replicas stream through a proxy on this machine's loopback, which only the native provider's replicas reach (provider: ${String(postgres.provider)}); ` +
          'set targets.postgres.provider: native',
      });
    }
    if (fault.holdFor !== undefined && !replication) {
      issues.push({
        path: ['faults', i, 'holdFor'],
        anchor: 'key',
        message: 'holdFor holds a broken replication link before the next fault; add link: replication, or remove holdFor (use duration to end a fault by itself)',
      });
    }
    const hold = msOf(fault.holdFor);
    const lasts = msOf(fault.duration);
    if (replication && hold !== undefined && lasts !== undefined && lasts <= hold) {
      issues.push({
        path: ['faults', i, 'duration'],
        anchor: 'value',
        message: 'the fault would end by itself before its holdFor is over, so the hold could not be shown; make duration longer than holdFor, or remove it',
      });
    }
    if (fault.holdFor !== undefined && replication && i === faults.length - 1) {
      issues.push({
        path: ['faults', i, 'holdFor'],
        anchor: 'key',
        message: 'with holdFor the fault is a precondition that does not set T_fault; follow it with the fault itself (e.g. pg-primary-crash), or remove holdFor',
      });
    }
  });
  // pg-replication-lag stops the WAL receivers (primary_conninfo cleared until teardown): a fault on
  // the replication link would then degrade a link nothing streams over, and judge nothing.
  const lag = faults.findIndex((f) => isRecord(f) && f.type === 'pg-replication-lag');
  if (lag >= 0 && onReplication) {
    issues.push({
      path: ['faults', lag, 'type'],
      anchor: 'value',
      message:
        'pg-replication-lag stops the replicas\' WAL receivers, so the fault on link: replication would degrade a link nothing streams over; ' +
        'use one of them (network-reset with link: replication and holdFor is the network form of the same hold)',
    });
  }
  const recovery = Array.isArray(data.recovery) ? data.recovery : [];
  recovery.forEach((step, i) => {
    if (isRecord(step) && step.step === 'remove-network-fault' && step.link === 'replication' && !onReplication) {
      issues.push({
        path: ['recovery', i, 'link'],
        anchor: 'value',
        message: 'no fault acts on the replication link, so its replicas do not stream through a proxy; add a network fault with link: replication, or remove link: replication',
      });
    }
  });
  return issues;
}

/** A raw duration value (`4s`, or milliseconds) in ms; undefined when it is not one (the schema reports that). */
function msOf(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  return typeof value === 'string' ? parseDuration(value) : undefined;
}
