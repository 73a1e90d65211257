import createDebug from 'debug';
import { reaperFor, reapingOrder } from './reapers.js';
import { readResources, type Resource } from './resource-ledger.js';

const debug = createDebug('drill:reaper');

export interface ReapReport {
  /** What still existed and was removed, e.g. `postgres /tmp/drill-…/primary/data`, `dir /tmp/drill-…`. */
  removed: string[];
  /** What still exists and could not be removed, with why; the ledger keeps it for a later try. */
  left: Array<{ what: string; reason: string }>;
}

/**
 * Stops and removes whatever a drill recorded and did not clean up itself (its process was killed,
 * or teardown failed), one reaper per kind in stage order (src/engine/reapers.ts). Safe to run
 * when everything is already gone: then it reports nothing.
 */
export async function reapRecorded(resources: Resource[]): Promise<ReapReport> {
  const report: ReapReport = { removed: [], left: [] };
  for (const resource of reapingOrder(resources)) {
    const outcome = await reaperFor(resource)
      .reap(resource)
      .catch((error: unknown) => ({ state: 'left' as const, what: `${resource.kind} ${JSON.stringify(resource)}`, reason: String(error) }));
    if (outcome.state === 'removed') {
      debug('removed %s', outcome.what);
      report.removed.push(outcome.what);
    } else if (outcome.state === 'left') {
      debug('could not remove %s: %s', outcome.what, outcome.reason);
      report.left.push({ what: outcome.what, reason: outcome.reason });
    }
  }
  return report;
}

/** Reaps a run directory's (or a cluster keeper's) `resources.jsonl`; returns what it removed. */
export async function reapResources(ledgerFile: string): Promise<string[]> {
  return (await reapRecorded(readResources(ledgerFile))).removed;
}
