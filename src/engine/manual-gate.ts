import { lstatSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import createDebug from 'debug';
import { formatDuration } from '../scenario/duration.js';
import { sleep } from './clock.js';
import { StepFailedError } from './errors.js';
import { identify } from '../targets/process/process-identity.js';

const debug = createDebug('drill:game-day');

/** What the drill waits for a person to do: one manual recovery step of a `--game-day` run. */
export interface ManualWait {
  runId: string;
  /** 1-based number of the step in `recovery:`, as `drill continue --step N` names it. */
  step: number;
  kind: string;
  title: string;
  /** What the person is told to do (the step's instructions, the runbook procedure, or its title). */
  instructions: string;
  timeoutMs: number;
}

/** A person's `drill continue`: when, and what they noted. */
export interface ManualGo {
  continuedAt: string;
  note?: string;
}

/**
 * Where a `--game-day` drill waits for `drill continue`. The capability is an interface so the
 * engine does not know the channel (tests of the engine pass their own).
 */
export interface ManualGate {
  waitFor(wait: ManualWait, signal: AbortSignal): Promise<ManualGo>;
}

/** The files of the channel, in a directory of the run's own under the runs dir (mode 0700). */
export const GATE_PREFIX = 'drill-gameday-';
export const gateFiles = (dir: string) => ({ waiting: path.join(dir, 'waiting.json'), go: path.join(dir, 'continue.json') });

/** The channel directory of a run whose machine-wide ledger is `ledgerFile` (`<runs dir>/<id>[.n].jsonl`). */
export function gateDirFor(ledgerFile: string): string {
  return path.join(path.dirname(ledgerFile), GATE_PREFIX + path.basename(ledgerFile, '.jsonl'));
}

/** A file only this user wrote, written whole (rename), never readable by others. */
export function writePrivateJson(file: string, data: unknown): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(data)}\n`, { mode: 0o600, flag: 'wx' });
  renameSync(tmp, file);
}

/** The parsed file when it is a plain file of this user; undefined when absent; a file of anyone else (or a link) is refused. */
export function readOwnJson(file: string): unknown {
  let stat;
  try {
    stat = lstatSync(file);
  } catch {
    return undefined;
  }
  if (!stat.isFile() || stat.uid !== process.getuid?.()) throw new Error(`${file} is not a plain file of this user; refusing it`);
  return JSON.parse(readFileSync(file, 'utf8')) as unknown;
}

/**
 * The file channel: the drill writes waiting.json and polls for continue.json, which `drill
 * continue` writes (src/cli/continue.ts). Local and private by construction: the directory is the
 * user's (0700, under the runs dir that is 0700 too), and a file not owned by the user is refused.
 * The directory is recorded as a temp dir of the run, so a killed drill's is reaped with the rest.
 */
export class FileManualGate implements ManualGate {
  private created = false;

  constructor(
    readonly dir: string,
    /** Called once, before the directory is made: record it for the reaper, push its teardown. */
    private readonly onCreate: (dir: string) => void,
    private readonly pollMs = 200,
  ) {}

  async waitFor(wait: ManualWait, signal: AbortSignal): Promise<ManualGo> {
    this.ensureDir();
    const files = gateFiles(this.dir);
    rmSync(files.go, { force: true });
    // pid and start time: `drill continue` must not take a killed drill (a zombie, a reused pid) for a waiting one.
    writePrivateJson(files.waiting, { ...wait, since: new Date().toISOString(), ...identify() });
    const deadline = performance.now() + wait.timeoutMs;
    try {
      for (;;) {
        signal.throwIfAborted();
        const go = this.take(files.go, wait.step);
        if (go) return go;
        if (performance.now() >= deadline) {
          throw new StepFailedError(
            'MANUAL_TIMEOUT',
            `recovery step ${wait.step} (${wait.title}): nobody ran \`drill continue ${wait.runId}\` within ${formatDuration(wait.timeoutMs)} (manualTimeout); raise manualTimeout or continue sooner`,
          );
        }
        await sleep(this.pollMs, signal);
      }
    } finally {
      rmSync(files.waiting, { force: true });
    }
  }

  /** A continue for this step, consumed; one for another step (sent as the drill moved on) is dropped. */
  private take(file: string, step: number): ManualGo | undefined {
    let data: unknown;
    try {
      data = readOwnJson(file);
    } catch (error) {
      debug('ignoring %s: %s', file, (error as Error).message);
      rmSync(file, { force: true });
      return undefined;
    }
    if (data === undefined) return undefined;
    rmSync(file, { force: true });
    const go = data as { step?: unknown; note?: unknown; continuedAt?: unknown };
    if (go.step !== step) {
      debug('dropping a continue for step %s while waiting at step %d', String(go.step), step);
      return undefined;
    }
    return {
      continuedAt: typeof go.continuedAt === 'string' ? go.continuedAt : new Date().toISOString(),
      ...(typeof go.note === 'string' && go.note ? { note: go.note } : {}),
    };
  }

  private ensureDir(): void {
    if (this.created) return;
    this.onCreate(this.dir);
    mkdirSync(path.dirname(this.dir), { recursive: true, mode: 0o700 });
    mkdirSync(this.dir, { mode: 0o700 });
    this.created = true;
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
