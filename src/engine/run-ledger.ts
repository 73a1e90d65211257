import { appendFileSync, closeSync, constants, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { identify, stillRunning, type ProcessIdentity } from '../targets/process/process-identity.js';
import { drillCacheDir } from './cache-dir.js';
import { EnvironmentError } from './errors.js';
import type { Resource } from './resource-ledger.js';

/**
 * The machine-wide ledger of a drill run: `<runs dir>/<run-id>.jsonl`, outside the run directory,
 * so that whatever a killed run left can be found by any later `drill run` or `drill cleanup`
 * without knowing where its reports went. It lists the processes that own the run and every
 * resource the run created; the run is orphaned once none of its owners runs any more (checked by
 * pid and start time, so a reused pid is not mistaken for an owner).
 */

/**
 * Who holds a run: the `drill run` command, the vitest process it starts (leader of the drill's
 * process group), the vitest worker that runs the engine, and a reaper that claimed the run.
 */
export type OwnerRole = 'run-command' | 'vitest' | 'drill' | 'reaper';

export interface OwnerRecord extends ProcessIdentity {
  role: OwnerRole;
  runId: string;
  runDir: string;
  since: string;
}

type LedgerLine = { owner: OwnerRecord } | { resource: Resource };

export interface RunIdentity {
  runId: string;
  runDir: string;
}

/** `$DRILL_RUNS_DIR`, else `$DRILL_CACHE_DIR/runs`, else `~/.cache/drill/runs`. */
export function runsDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.DRILL_RUNS_DIR || path.join(drillCacheDir(env), 'runs');
}

export interface RunLedgerContents {
  owners: OwnerRecord[];
  resources: Resource[];
}

export class RunLedger {
  private constructor(
    readonly file: string,
    readonly run: RunIdentity,
  ) {}

  /**
   * A new run's ledger, created with this process as its first owner in one write, so no other
   * process ever sees the file without a live owner.
   */
  static create(dir: string, run: RunIdentity, role: OwnerRole = 'run-command'): RunLedger {
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
    } catch (error) {
      throw new EnvironmentError('RUN_LEDGER_UNWRITABLE', `cannot create the run ledger directory ${dir} (${(error as Error).message}): make it writable or set DRILL_RUNS_DIR to a directory that is`, { cause: error });
    }
    // Run ids are unique within one reports directory only: another one may hold the same id.
    for (let n = 1; ; n++) {
      const file = path.join(dir, n === 1 ? `${run.runId}.jsonl` : `${run.runId}.${n}.jsonl`);
      try {
        writeFileSync(file, line({ owner: ownerRecord(role, process.pid, run) }), { flag: 'wx', mode: 0o600 });
        return new RunLedger(file, run);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
    }
  }

  /** An existing ledger (a drill process joining its run, or a reaper reading one). */
  static open(file: string): RunLedger {
    const first = readLedgerFile(file).owners[0];
    return new RunLedger(file, { runId: first?.runId ?? path.basename(file, '.jsonl'), runDir: first?.runDir ?? '' });
  }

  addOwner(role: OwnerRole, pid: number = process.pid): void {
    appendFileSync(this.file, line({ owner: ownerRecord(role, pid, this.run) }));
  }

  /**
   * A reaper joins the run's owners before it reaps, so a second reaper (another `drill run`
   * starting at the same moment) sees a live owner and leaves the run alone. Returns false when
   * the ledger is gone (another reaper finished it) or another owner runs.
   */
  claim(): boolean {
    let fd: number;
    try {
      // No O_CREAT: a ledger another reaper just removed must not come back.
      fd = openSync(this.file, constants.O_WRONLY | constants.O_APPEND);
    } catch {
      return false;
    }
    try {
      writeSync(fd, line({ owner: ownerRecord('reaper', process.pid, this.run) }));
    } finally {
      closeSync(fd);
    }
    return this.liveOwners().length === 0;
  }

  record(resource: Resource): void {
    appendFileSync(this.file, line({ resource }));
  }

  read(): RunLedgerContents {
    return readLedgerFile(this.file);
  }

  /** Owners other than `except` (this process, by default) that still run. */
  liveOwners(except: number = process.pid): OwnerRecord[] {
    return this.read().owners.filter((o) => o.pid !== except && stillRunning(o));
  }

  remove(): void {
    rmSync(this.file, { force: true });
  }
}

function ownerRecord(role: OwnerRole, pid: number, run: RunIdentity): OwnerRecord {
  return { role, ...identify(pid), runId: run.runId, runDir: run.runDir, since: new Date().toISOString() };
}

function line(entry: LedgerLine): string {
  return `${JSON.stringify(entry)}\n`;
}

/** A line cut short by a kill in the middle of a write is skipped, not fatal: the rest still counts. */
function readLedgerFile(file: string): RunLedgerContents {
  const contents: RunLedgerContents = { owners: [], resources: [] };
  if (!existsSync(file)) return contents;
  for (const text of readFileSync(file, 'utf8').split('\n')) {
    if (!text.trim()) continue;
    let entry: Partial<{ owner: OwnerRecord; resource: Resource }>;
    try {
      entry = JSON.parse(text) as typeof entry;
    } catch {
      continue;
    }
    if (entry.owner) contents.owners.push(entry.owner);
    if (entry.resource) contents.resources.push(entry.resource);
  }
  return contents;
}

/** Every run ledger in the runs directory, oldest run id first. */
export function listRunLedgers(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.jsonl'))
    .sort()
    .map((f) => path.join(dir, f));
}
