import createDebug from 'debug';
import { reapRecorded, type ReapReport } from './reaper.js';
import { listRunLedgers, RunLedger, type OwnerRecord, type RunIdentity } from './run-ledger.js';

const debug = createDebug('drill:reaper');

export type RunReap =
  /** An owner still runs (the drill, its `drill run`, or another reaper): left alone. */
  | { state: 'running'; file: string; run: RunIdentity; live: OwnerRecord[] }
  /**
   * Every owner is gone: what was left is reaped. `ledgerRemoved` once nothing of it is left;
   * `notes` are what `finish` did for the run's report (evidence written, run marked killed).
   */
  | { state: 'reaped'; file: string; run: RunIdentity; owners: OwnerRecord[]; report: ReapReport; ledgerRemoved: boolean; notes: string[] };

export interface ReapOrphansOptions {
  /**
   * Completes the record of a run whose `drill run` did not live to do it (src/cli/finish-run.ts);
   * returns what it did. Called after the reap, before the ledger is removed.
   */
  finish?: (run: RunIdentity, owners: OwnerRecord[], report: ReapReport) => Promise<string[]>;
}

/**
 * Reaps every run in the machine-wide runs directory whose owners are all gone (killed drills,
 * killed `drill run` commands), oldest first. A run that still has a live owner is reported and
 * left alone; a run whose resources are all gone has its ledger removed.
 */
export async function reapOrphanedRuns(dir: string, options: ReapOrphansOptions = {}): Promise<RunReap[]> {
  const results: RunReap[] = [];
  for (const file of listRunLedgers(dir)) {
    const ledger = RunLedger.open(file);
    const live = ledger.liveOwners();
    if (live.length > 0 || !ledger.claim()) {
      const now = ledger.liveOwners();
      // Gone in between (another reaper finished it): nothing to report.
      if (now.length === 0) continue;
      results.push({ state: 'running', file, run: ledger.run, live: now });
      continue;
    }
    const { owners, resources } = ledger.read();
    debug('run %s: every owner gone; reaping %d entries', ledger.run.runId, resources.length);
    const report = await reapRecorded(resources);
    const notes = options.finish
      ? await options.finish(ledger.run, owners, report).catch((error: unknown) => [`could not complete the run's record: ${String(error)}`])
      : [];
    const ledgerRemoved = report.left.length === 0;
    if (ledgerRemoved) ledger.remove();
    results.push({ state: 'reaped', file, run: ledger.run, owners: owners.filter((o) => o.role !== 'reaper'), report, ledgerRemoved, notes });
  }
  return results;
}
