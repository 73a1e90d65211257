import createDebug from 'debug';
import type { LoadedScenario } from '../scenario/loader.js';
import { asDrillError, type ErrorKind } from './errors.js';
import type { Journal, RunStatus } from './journal-types.js';
import { baselinePhase } from './phases/baseline.js';
import { detectPhase } from './phases/detect.js';
import { DrillRun, type RunDrillOptions } from './phases/drill-run.js';
import { injectPhase } from './phases/inject.js';
import { judgePhase } from './phases/judge.js';
import { alertOnDetection, resolutionNotice } from './phases/notify.js';
import { startObserving, stopObserving } from './phases/observe.js';
import type { PhaseTask } from './phases/phase-task.js';
import { runTask } from './phases/phase-task.js';
import { provisionPhase } from './phases/provision.js';
import { recoverPhase } from './phases/recover.js';
import { tearDown } from './phases/teardown.js';
import { verifyPhase } from './phases/verify.js';

export type { RunDrillOptions } from './phases/drill-run.js';

const debug = createDebug('drill:engine');

/** DESIGN.md section 3, in order; each task is one file of src/engine/phases/. */
const PHASES: readonly PhaseTask[] = [
  provisionPhase,
  startObserving,
  baselinePhase,
  injectPhase,
  detectPhase,
  alertOnDetection,
  recoverPhase,
  verifyPhase,
  stopObserving,
  resolutionNotice,
  judgePhase,
];

/**
 * One drill, DESIGN.md section 3: provision -> baseline -> inject -> detect -> recover -> verify
 * -> judge, with teardown always. Returns the journal; never throws for a drill that failed,
 * only records it.
 */
export async function runDrill(loaded: LoadedScenario, options: RunDrillOptions): Promise<Journal> {
  const run = new DrillRun(loaded, options);
  try {
    for (const task of PHASES) await runTask(run, task);
  } catch (error) {
    const e = asDrillError(error);
    run.status = statusForStop(e.kind);
    run.journal.error = { code: e.code, message: e.message };
    debug('drill stopped: %s %s', e.code, e.message);
  } finally {
    await tearDown(run);
  }
  return run.journal;
}

/** How a drill that stopped early ends: a refused input found only while running (a namespace not marked as a drill target) is still invalid input. */
function statusForStop(kind: ErrorKind): RunStatus {
  switch (kind) {
    case 'interrupted':
      return 'interrupted';
    case 'check':
      return 'failed';
    case 'input':
      return 'invalid-input';
    default:
      return 'environment-error';
  }
}
