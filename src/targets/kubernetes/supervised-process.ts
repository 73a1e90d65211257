import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import createDebug from 'debug';
import { EnvironmentError } from '../../engine/errors.js';
import type { ResourceLedger } from '../../engine/resource-ledger.js';
import { processStartTime } from '../process/process-identity.js';
import { childEnvironment } from '../process/child-environment.js';

const debug = createDebug('drill:k8s');

export interface SupervisedProcessSpec {
  name: string;
  file: string;
  args: string[];
  /** stdout and stderr go here (appended). */
  logFile: string;
  ledger: ResourceLedger;
  /**
   * A string in the process's command line that identifies it as ours (the temp dir), so the
   * reaper never kills a process that merely reuses a recorded pid.
   */
  match: string;
  /**
   * The child's whole environment. Absent: it inherits the harness's (the control plane's
   * components); a program that must not see the harness's secrets gets an explicit one.
   */
  env?: Record<string, string>;
  cwd?: string;
}

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * A long-running component (etcd, kube-apiserver, ...), started in the caller's process group so a
 * Ctrl-C or a killed group takes it along, recorded in the resource ledger so `drill run` can reap
 * it when its owner died without stopping it.
 */
export class SupervisedProcess {
  private exitInfo: ProcessExit | undefined;
  readonly exited: Promise<ProcessExit>;

  private constructor(
    readonly spec: SupervisedProcessSpec,
    private readonly child: ChildProcess,
    /** Its start time as recorded in the ledger: with the pid, which process this is (process-identity.ts). */
    readonly startTime: string | undefined,
  ) {
    this.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        debug('%s (pid %d) exited: code %s signal %s', spec.name, child.pid, code, signal);
        resolve(this.exitInfo);
      });
    });
  }

  static start(spec: SupervisedProcessSpec): SupervisedProcess {
    const log = openSync(spec.logFile, 'a');
    let child: ChildProcess;
    try {
      // Components are configured by flags and files; their environment is the basics only, unless given.
      child = spawn(spec.file, spec.args, { stdio: ['ignore', log, log], env: childEnvironment(spec.env ? { from: {}, set: spec.env } : {}), ...(spec.cwd ? { cwd: spec.cwd } : {}) });
    } finally {
      closeSync(log);
    }
    if (child.pid === undefined) {
      throw new EnvironmentError('COMPONENT_START_FAILED', `could not start ${spec.name} (${spec.file})`);
    }
    // A spawn error (ENOENT, EACCES) arrives as an event; it is reported through `exited`.
    child.on('error', (error) => debug('%s: %s', spec.name, error.message));
    const startTime = processStartTime(child.pid);
    spec.ledger.record({ kind: 'process', pid: child.pid, name: spec.name, match: spec.match, startTime });
    debug('started %s (pid %d): %s %s', spec.name, child.pid, spec.file, spec.args.join(' '));
    return new SupervisedProcess(spec, child, startTime);
  }

  get name(): string {
    return this.spec.name;
  }

  get pid(): number {
    return this.child.pid!;
  }

  get logFile(): string {
    return this.spec.logFile;
  }

  /** How it ended, or undefined while it runs. */
  get exit(): ProcessExit | undefined {
    return this.exitInfo;
  }

  logTail(lines = 15): string {
    try {
      return readFileSync(this.spec.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.exitInfo) return;
    this.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), graceMs)));
    const result = await Promise.race([this.exited, timedOut]);
    clearTimeout(timer);
    if (result === 'timeout') {
      debug('%s (pid %d) ignored SIGTERM for %d ms: SIGKILL', this.name, this.pid, graceMs);
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }

  /** SIGKILL now: a crash, for faults. */
  async kill(): Promise<void> {
    if (this.exitInfo) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }
}
