import type { PathIssue } from './issues.js';
import { isRecord } from './schema-walk.js';

/**
 * The region partition's cross-key rules (see rules.ts for why they are not zod refinements): the
 * step that heals it needs the fault (only that fault makes the inter-region link), and
 * pg-replication-lag, which stops the DR replica's WAL receiver until teardown, would leave the
 * link carrying nothing to cut. (That region-partition needs targets.regions is its declared need.)
 */
export function regionPartitionIssues(data: unknown): PathIssue[] {
  if (!isRecord(data) || !Array.isArray(data.faults)) return [];
  const faults = data.faults;
  const partition = faults.findIndex((f) => isRecord(f) && f.type === 'region-partition');
  const issues: PathIssue[] = [];
  const lag = faults.findIndex((f) => isRecord(f) && f.type === 'pg-replication-lag');
  if (partition >= 0 && lag >= 0) {
    issues.push({
      path: ['faults', lag, 'type'],
      anchor: 'value',
      message: "pg-replication-lag stops the DR replica's WAL receiver, so the region-partition would cut a link nothing streams over; keep one of them (region-partition holds replication back by itself)",
    });
  }
  const recovery = Array.isArray(data.recovery) ? data.recovery : [];
  recovery.forEach((step, i) => {
    if (partition < 0 && isRecord(step) && step.step === 'heal-region-partition') {
      issues.push({
        path: ['recovery', i, 'step'],
        anchor: 'value',
        message: 'heal-region-partition heals the inter-region link a region-partition fault cuts, and the scenario has none: add a fault {type: region-partition}, or remove this step',
      });
    }
  });
  return issues;
}
