import { existsSync, lstatSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { sleep } from '../engine/clock.js';
import { InputError } from '../engine/errors.js';
import { GATE_PREFIX, gateFiles, readOwnJson, writePrivateJson, type ManualWait } from '../engine/manual-gate.js';
import { RunLedger, runsDir } from '../engine/run-ledger.js';
import { stillRunning } from '../targets/process/process-identity.js';

const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$/;
const MAX_NOTE = 2000;
/** How long to wait for the drill to take the continue before saying it has not yet (it polls every 200 ms). */
const TAKEN_WITHIN_MS = 10_000;

type Waiting = ManualWait & { pid: number; startTime?: string; since: string };

/**
 * `drill continue <run-id> [--step N] [--note ...]`: tells a game day waiting at a manual step
 * that the person is done. Only a drill of this user on this machine can be reached (the channel
 * is a private directory under the runs dir, src/engine/manual-gate.ts). Exit 2, nothing sent,
 * for a run that is not waiting (unknown, finished, not a game day) or waits at another step.
 */
export async function continueCommand(runId: string, options: { step?: number; note?: string }, dir: string = runsDir()): Promise<number> {
  if (!RUN_ID.test(runId)) throw new InputError('BAD_RUN_ID', `"${runId}" is not a run id: give the one \`drill run\` printed ("drill <name>: run <run-id>")`);
  if (options.note !== undefined && options.note.length > MAX_NOTE) throw new InputError('NOTE_TOO_LONG', `--note is ${options.note.length} characters; keep it under ${MAX_NOTE} (the journal is evidence, not a log)`);
  const found = waitingAt(dir, runId);
  if (!found) {
    const ledger = path.join(dir, `${runId}.jsonl`);
    // A ledger without a live owner is a killed run, waiting for its reaper: nobody to continue.
    const running = existsSync(ledger) && RunLedger.open(ledger).liveOwners().length > 0;
    throw new InputError(
      running ? 'RUN_NOT_WAITING' : 'NO_SUCH_RUN',
      running
        ? `run ${runId} is running but not waiting at a manual step (it waits only when run with --game-day, at a step marked manual); nothing was sent`
        : `no running drill ${runId} of this user on this machine (finished, killed, or mistyped): the run id is on the drill's first line, "drill <name>: run <run-id>"; nothing was sent`,
    );
  }
  const { gateDir, waiting } = found;
  if (options.step !== undefined && options.step !== waiting.step) {
    throw new InputError('WRONG_STEP', `run ${runId} waits at step ${waiting.step} (${waiting.title}), not step ${options.step}; nothing was sent`);
  }
  const files = gateFiles(gateDir);
  writePrivateJson(files.go, { step: waiting.step, continuedAt: new Date().toISOString(), pid: process.pid, ...(options.note ? { note: options.note } : {}) });
  const deadline = Date.now() + TAKEN_WITHIN_MS;
  while (existsSync(files.go) && Date.now() < deadline) await sleep(100);
  if (existsSync(files.go)) {
    console.log(`run ${runId}: continue for step ${waiting.step} (${waiting.title}) sent; the drill has not taken it yet: watch its terminal`);
  } else {
    console.log(`run ${runId}: step ${waiting.step} (${waiting.title}) continued${options.note ? ', note recorded' : ''}`);
  }
  return 0;
}

/** The run's channel with a live drill waiting in it; a stale one (the drill was killed) does not count. */
function waitingAt(dir: string, runId: string): { gateDir: string; waiting: Waiting } | undefined {
  if (!existsSync(dir)) return undefined;
  const names = readdirSync(dir).filter((n) => n === `${GATE_PREFIX}${runId}` || new RegExp(`^${GATE_PREFIX}${escape(runId)}\\.\\d+$`).test(n));
  for (const name of names) {
    const gateDir = path.join(dir, name);
    const stat = lstatSync(gateDir);
    // Never follow a link or use a directory another user made: the channel must be this user's.
    if (!stat.isDirectory() || stat.uid !== process.getuid?.()) continue;
    const waiting = readOwnJson(gateFiles(gateDir).waiting) as Waiting | undefined;
    if (waiting && typeof waiting.step === 'number' && alive(waiting)) return { gateDir, waiting };
  }
  return undefined;
}

/**
 * The waiting drill still runs: its pid with the start time it recorded. Not `kill(pid, 0)`, which
 * also succeeds on a zombie: a drill killed -9 whose parent died too stays one until init reaps it
 * (seen under load in CI: a continue was "sent" to a killed drill).
 */
function alive(waiting: Waiting): boolean {
  if (typeof waiting.pid !== 'number') return false;
  return stillRunning({ pid: waiting.pid, ...(typeof waiting.startTime === 'string' ? { startTime: waiting.startTime } : {}) });
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
