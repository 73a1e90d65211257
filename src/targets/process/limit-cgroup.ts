import { chownSync, existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import createDebug from 'debug';
import { sleep } from '../../engine/clock.js';
import { EnvironmentError } from '../../engine/errors.js';
import type { Resource, ResourceLedger } from '../../engine/resource-ledger.js';
import type { LimitController } from './cgroup-v1.js';
import type { RunAs } from './run-command.js';

const debug = createDebug('drill:cgroup');

export type LimitCgroupRecord = Extract<Resource, { kind: 'limit-cgroup' }>;

/** What a run id or name may be in a cgroup path: one path component, nothing to climb out with. */
const COMPONENT = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * A cgroup (v1) of the drill's in one controller's hierarchy, whose limit the processes moved into
 * it (and every process they fork) run under. It is created below the cgroup the server's
 * postmaster was in (`origin`), so whatever limits the machine already puts on that one still
 * hold, at `<origin>/drill/<run>/<name>`; recorded in the ledger (kind `limit-cgroup`) before it
 * exists. `release()` moves every process back to `origin` and removes it (and the `drill/<run>`
 * directories once empty); the reaper does the same after a kill -9.
 */
export class LimitCgroup {
  private constructor(readonly record: LimitCgroupRecord) {}

  static create(options: { controller: LimitController; mount: string; origin: string; runId: string; name: string; ledger: ResourceLedger; joinableBy?: RunAs }): LimitCgroup {
    for (const part of [options.runId, options.name]) {
      if (!COMPONENT.test(part)) throw new EnvironmentError('CGROUP_NAME_INVALID', `"${part}" cannot name a cgroup directory (letters, digits, . _ -); this is a drill bug`);
    }
    const cgroupPath = path.posix.join(options.origin, 'drill', options.runId, options.name);
    const record: LimitCgroupRecord = { kind: 'limit-cgroup', controller: options.controller, mount: options.mount, origin: options.origin, path: cgroupPath, runId: options.runId };
    // In the ledger before it exists: a kill between the two leaves an entry the reaper finds absent.
    options.ledger.record(record);
    const dir = path.join(options.mount, cgroupPath);
    mkdirSync(dir, { recursive: true });
    // The server's start (pg_ctl, as the PostgreSQL user) joins it itself: it may write its own pid here.
    if (options.joinableBy) chownSync(path.join(dir, 'cgroup.procs'), options.joinableBy.uid, options.joinableBy.gid);
    debug('created %s:%s', options.controller, cgroupPath);
    return new LimitCgroup(record);
  }

  get controller(): LimitController {
    return this.record.controller;
  }

  /** Its directory in the hierarchy (e.g. /sys/fs/cgroup/memory/drill/<run>/postgres-primary). */
  get dir(): string {
    return path.join(this.record.mount, this.record.path);
  }

  /** The file a process writes its pid to, to join. */
  get procsFile(): string {
    return path.join(this.dir, 'cgroup.procs');
  }

  exists(): boolean {
    return existsSync(this.dir);
  }

  /** Sets a control file; the kernel's refusal (a CPU quota above the parent's, EINVAL) is exit 3 with what it refused. */
  write(file: string, value: string | number): void {
    try {
      writeFileSync(path.join(this.dir, file), String(value));
    } catch (error) {
      throw new EnvironmentError(
        'CGROUP_WRITE_REFUSED',
        `the kernel refused ${value} for ${file} of ${this.dir} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); ` +
          'a limit the cgroup it is created in does not allow (a CPU quota above its own, a limit below what the kernel accepts) is refused: choose one within it',
        { cause: error },
      );
    }
  }

  read(file: string): string {
    return readFileSync(path.join(this.dir, file), 'utf8').trim();
  }

  /** `key value` lines (memory.oom_control, cpu.stat) as numbers. */
  readCounters(file: string): Record<string, number> {
    return Object.fromEntries(
      this.read(file)
        .split('\n')
        .map((l) => l.split(' '))
        .filter((f) => f.length === 2)
        .map(([k, v]) => [k!, Number(v)]),
    );
  }

  /** What the journal shows of its memory accounting (memory controller; empty once it is gone). */
  memoryCounters(): Record<string, number> {
    if (!this.exists() || this.controller !== 'memory') return {};
    const oom = this.readCounters('memory.oom_control');
    return {
      limitBytes: Number(this.read('memory.limit_in_bytes')),
      usageBytes: Number(this.read('memory.usage_in_bytes')),
      maxUsageBytes: Number(this.read('memory.max_usage_in_bytes')),
      failcnt: Number(this.read('memory.failcnt')),
      underOom: oom.under_oom ?? 0,
      // Kernels since 4.13 count the OOM kills in it.
      ...(oom.oom_kill === undefined ? {} : { oomKill: oom.oom_kill }),
    };
  }

  /** What the journal shows of its CPU accounting (cpu controller): quota, period and how often the quota throttled it. */
  cpuCounters(): Record<string, number> {
    if (!this.exists() || this.controller !== 'cpu') return {};
    const stat = this.readCounters('cpu.stat');
    return {
      cfsQuotaUs: Number(this.read('cpu.cfs_quota_us')),
      cfsPeriodUs: Number(this.read('cpu.cfs_period_us')),
      nrPeriods: stat.nr_periods ?? 0,
      nrThrottled: stat.nr_throttled ?? 0,
      throttledMs: Math.round((stat.throttled_time ?? 0) / 1e6),
    };
  }

  /** The counters of its controller. */
  counters(): Record<string, number> {
    return this.controller === 'memory' ? this.memoryCounters() : this.cpuCounters();
  }

  /** The processes in it now. */
  pids(): number[] {
    return this.exists() ? pidsIn(this.dir) : [];
  }

  /** Moves each pid in (ESRCH, gone meanwhile, skipped); returns those moved. */
  adopt(pids: readonly number[]): number[] {
    return pids.filter((pid) => movePid(pid, this.procsFile));
  }

  /** Every process back to the cgroup it came from, then the directory gone. Returns the pids moved back. */
  release(): Promise<number[]> {
    return releaseCgroup(this.record);
  }
}

function pidsIn(dir: string): number[] {
  return readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
}

function movePid(pid: number, procsFile: string): boolean {
  try {
    writeFileSync(procsFile, String(pid));
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

/**
 * Moves what is in the recorded cgroup back to its origin (or, when that is gone, the nearest
 * ancestor that still exists) until it is empty, removes it, then removes `drill/<run>` and
 * `drill` below the origin when empty (another run's cgroups keep `drill`). Shared by the fault's
 * handle, remove-resource-limit and the reaper.
 */
export async function releaseCgroup(record: LimitCgroupRecord, timeoutMs = 10_000): Promise<number[]> {
  const dir = path.join(record.mount, record.path);
  const moved: number[] = [];
  if (!existsSync(dir)) return moved;
  let target = path.join(record.mount, record.origin);
  while (!existsSync(path.join(target, 'cgroup.procs')) && target !== record.mount) target = path.dirname(target);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // A process forked while we move the others lands here too: read again until none is left.
    for (const pid of pidsIn(dir)) if (movePid(pid, path.join(target, 'cgroup.procs'))) moved.push(pid);
    try {
      rmdirSync(dir);
      break;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') break;
      if (code !== 'EBUSY' || Date.now() > deadline) {
        throw new EnvironmentError('CGROUP_BUSY', `cgroup ${dir} could not be removed (${code}); processes in it: ${pidsIn(dir).join(', ') || 'none'}`, { cause: error });
      }
      await sleep(50);
    }
  }
  for (const parent of [path.posix.join(record.origin, 'drill', record.runId), path.posix.join(record.origin, 'drill')]) {
    try {
      rmdirSync(path.join(record.mount, parent));
    } catch {
      break; // not empty (another cgroup of the run, another run), or gone
    }
  }
  debug('released %s:%s (%d processes back to %s)', record.controller, record.path, moved.length, target);
  return moved;
}
