import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ReapReport } from '../engine/reaper.js';
import type { OwnerRecord, RunIdentity } from '../engine/run-ledger.js';
import { runFiles } from '../engine/run-plan.js';
import { EVIDENCE_DIR, MANIFEST_FILE } from '../report/evidence-manifest.js';
import { writeEvidence } from '../report/evidence.js';

/** What `killed.json` says about a run that ended before its drill wrote a journal. */
export interface KilledRunRecord {
  runId: string;
  status: 'killed';
  message: string;
  /** When the reaper found the run without a live owner. */
  detectedAt: string;
  detectedBy: { command: string; pid: number };
  owners: Array<Pick<OwnerRecord, 'role' | 'pid' | 'since'>>;
  removed: string[];
  left: ReapReport['left'];
}

/**
 * Does for a run what its `drill run` would have done after the drill, had it not been killed:
 * - the drill wrote its journal (it noticed its `drill run` was gone, stopped and tore down, or
 *   it finished just before): the evidence bundle is written now, as `drill run` would have;
 * - no journal (the drill was killed too): there are no measurements to certify, so the run is
 *   marked killed in `killed.json` with what was found and removed, and gets no evidence.
 * A run directory that no longer exists is left as it is. Returns what it did, for printing.
 */
export interface FinishOptions {
  /** Which command found the run, for killed.json. */
  command: string;
  /** Writes the run's evidence bundle, signed as that command signs (default: writeEvidence's own defaults). */
  writeRunEvidence?: WriteRunEvidence;
}

export type WriteRunEvidence = (runDir: string) => Promise<unknown>;

export async function finishOrphanedRun(run: RunIdentity, owners: OwnerRecord[], report: ReapReport, options: FinishOptions): Promise<string[]> {
  if (!run.runDir || !existsSync(run.runDir)) return [];
  const files = runFiles(run.runDir);
  const shown = path.relative(process.cwd(), run.runDir) || run.runDir;
  if (existsSync(files.journal)) {
    if (existsSync(path.join(run.runDir, EVIDENCE_DIR, MANIFEST_FILE))) return [];
    await (options.writeRunEvidence ?? writeEvidence)(run.runDir);
    return [`evidence written: ${shown}/${EVIDENCE_DIR}/ (its drill run was killed after the drill wrote its journal)`];
  }
  if (existsSync(files.killed)) return [];
  const record: KilledRunRecord = {
    runId: run.runId,
    status: 'killed',
    message:
      'The drill and its `drill run` were killed before the drill wrote its journal: this run has no measurements, verdicts or evidence. What it left running was removed afterwards (listed here).',
    detectedAt: new Date().toISOString(),
    detectedBy: { command: options.command, pid: process.pid },
    owners: owners.filter((o) => o.role !== 'reaper').map(({ role, pid, since }) => ({ role, pid, since })),
    removed: report.removed,
    left: report.left,
  };
  await writeFile(files.killed, `${JSON.stringify(record, null, 2)}\n`);
  return [`no journal (the drill was killed too): marked killed in ${shown}/killed.json`];
}
