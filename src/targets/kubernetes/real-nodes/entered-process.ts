import path from 'node:path';
import createDebug from 'debug';
import { sleep } from '../../../engine/clock.js';
import type { ResourceLedger } from '../../../engine/resource-ledger.js';
import { SupervisedProcess, type ProcessExit } from '../supervised-process.js';
import { childPids } from './node-sandbox.js';

const debug = createDebug('drill:k8s');

/**
 * A program started inside a node's namespaces through `nsenter`, which forks it and waits for
 * it. Signals go to the program itself (nsenter would not pass them on); nsenter then exits with it.
 */
export class EnteredProcess {
  private constructor(private readonly nsenter: SupervisedProcess) {}

  static start(spec: { name: string; enter: string[]; file: string; args: string[]; logFile: string; ledger: ResourceLedger; match: string }): EnteredProcess {
    const [nsenter, ...prefix] = spec.enter;
    return new EnteredProcess(
      SupervisedProcess.start({ name: spec.name, file: nsenter!, args: [...prefix, spec.file, ...spec.args], logFile: spec.logFile, ledger: spec.ledger, match: spec.match }),
    );
  }

  get name(): string {
    return this.nsenter.name;
  }

  get exit(): ProcessExit | undefined {
    return this.nsenter.exit;
  }

  get exited(): Promise<ProcessExit> {
    return this.nsenter.exited;
  }

  get logFile(): string {
    return this.nsenter.logFile;
  }

  logTail(lines?: number): string {
    return this.nsenter.logTail(lines);
  }

  /** The program's host PID, once nsenter has forked it. */
  async pid(timeoutMs = 5000): Promise<number | undefined> {
    const deadline = Date.now() + timeoutMs;
    while (!this.exit) {
      const child = childPids(this.nsenter.pid)[0];
      if (child !== undefined) return child;
      if (Date.now() > deadline) return undefined;
      await sleep(20);
    }
    return undefined;
  }

  private async signal(sig: NodeJS.Signals): Promise<void> {
    const pid = await this.pid();
    if (pid === undefined) return;
    try {
      process.kill(pid, sig);
    } catch {
      /* already gone */
    }
  }

  /** SIGTERM to the program, SIGKILL after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.exit) return;
    await this.signal('SIGTERM');
    const timedOut = Symbol('timeout');
    const result = await Promise.race([this.exited, sleep(graceMs).then(() => timedOut)]);
    if (result === timedOut) {
      debug('%s ignored SIGTERM for %d ms: SIGKILL', this.name, graceMs);
      await this.kill();
    }
  }

  /** SIGKILL to the program: a crash. */
  async kill(): Promise<void> {
    if (this.exit) return;
    await this.signal('SIGKILL');
    await this.exited;
  }
}

export function logFileIn(dir: string, name: string): string {
  return path.join(dir, `${name.replace(/[^A-Za-z0-9_.-]/g, '-')}.log`);
}
