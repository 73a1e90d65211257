import { reapOrphanedRuns, type RunReap } from '../engine/orphaned-runs.js';
import { runsDir } from '../engine/run-ledger.js';
import { finishOrphanedRun, type WriteRunEvidence } from './finish-run.js';

/** Reaps every run whose owners are gone, completing each one's record (evidence, or killed.json). */
function reapOrphans(command: string, writeRunEvidence: WriteRunEvidence | undefined): Promise<RunReap[]> {
  return reapOrphanedRuns(runsDir(), { finish: (run, owners, report) => finishOrphanedRun(run, owners, report, { command, writeRunEvidence }) });
}

function ownersGone(r: Extract<RunReap, { state: 'reaped' }>): string {
  const owners = r.owners.map((o) => `${o.role} pid ${o.pid}`).join(', ');
  return owners ? `${owners}: gone` : 'no owner recorded';
}

/** Lines describing one run's reap: what was removed, what is left and why, what was written. */
function describe(r: Extract<RunReap, { state: 'reaped' }>): string[] {
  return [
    `run ${r.run.runId} (${ownersGone(r)})`,
    ...r.report.removed.map((what) => `  removed ${what}`),
    ...r.report.left.map((l) => `  LEFT ${l.what}: ${l.reason}`),
    ...r.notes.map((n) => `  ${n}`),
    ...(r.ledgerRemoved ? [] : [`  ledger kept: ${r.file} (run \`npx drill cleanup\` again once the cause above is fixed)`]),
  ];
}

/**
 * `drill cleanup`: reaps what killed drills left on this machine (every run in the machine-wide
 * ledger whose owners are all gone) and prints it. Runs still in progress are listed and left
 * alone. Exit 0 when nothing of a killed run is left (also when there was nothing to do), 3 when
 * something could not be removed.
 */
export async function cleanupCommand(writeRunEvidence?: WriteRunEvidence): Promise<number> {
  const results = await reapOrphans('drill cleanup', writeRunEvidence);
  const reaped = results.filter((r): r is Extract<RunReap, { state: 'reaped' }> => r.state === 'reaped');
  for (const r of results) {
    if (r.state === 'running') {
      console.log(`run ${r.run.runId}: still running (${r.live.map((o) => `${o.role} pid ${o.pid}`).join(', ')}); left alone`);
    } else {
      for (const line of describe(r)) console.log(line);
    }
  }
  const removed = reaped.reduce((n, r) => n + r.report.removed.length, 0);
  const leftOver = reaped.reduce((n, r) => n + r.report.left.length, 0);
  if (reaped.length === 0) {
    console.log(`nothing to clean up: no killed drill left anything (ledger: ${runsDir()})`);
  } else {
    console.log(`cleanup: ${reaped.length} killed run(s); removed ${removed} leftover(s)${leftOver ? `; ${leftOver} could not be removed` : ''}`);
  }
  return leftOver > 0 ? 3 : 0;
}

/** The start of every `drill run`: the same reap, printed only when it found something. */
export async function reapBeforeRun(writeRunEvidence?: WriteRunEvidence): Promise<void> {
  for (const r of await reapOrphans('drill run', writeRunEvidence)) {
    if (r.state !== 'reaped') continue;
    const [head, ...rest] = describe(r);
    console.log(`drill: cleaning up after a killed ${head}`);
    for (const line of rest) console.log(line);
  }
}
