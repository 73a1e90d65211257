import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import createDebug from 'debug';
import { sleep } from '../../../engine/clock.js';
import { EnvironmentError } from '../../../engine/errors.js';
import type { ResourceLedger } from '../../../engine/resource-ledger.js';
import { SupervisedProcess } from '../supervised-process.js';

const debug = createDebug('drill:k8s');

const NODE_INIT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'node-init.sh');

/** The children of a process (Linux /proc/<pid>/task/<pid>/children). */
export function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/**
 * What makes a real node a machine of its own on a shared host, the way a kind node is a
 * container: its own PID namespace (containerd, kubelet, shims and containers all die with its
 * init, as with power loss) and its own private mount namespace (node-init.sh). Its network is the
 * drill network the caller runs in: every node shares it, each with its own address.
 */
export class NodeSandbox {
  private constructor(
    private readonly keeper: SupervisedProcess,
    /** The host PID of the namespace's init (PID 1 inside). */
    readonly initPid: number,
  ) {}

  static async start(options: { node: string; dir: string; initBinary: string; ledger: ResourceLedger; timeoutMs?: number }): Promise<NodeSandbox> {
    const keeper = SupervisedProcess.start({
      name: `node:${options.node}`,
      file: 'unshare',
      args: ['--pid', '--fork', '--kill-child', '--mount-proc', '--propagation', 'private', '--', '/bin/sh', NODE_INIT, options.dir, options.initBinary],
      logFile: path.join(options.dir, 'node-init.log'),
      ledger: options.ledger,
      match: options.dir,
    });
    const ready = path.join(options.dir, 'init.ready');
    const deadline = Date.now() + (options.timeoutMs ?? 15_000);
    for (;;) {
      if (keeper.exit) {
        throw new EnvironmentError('NODE_SANDBOX_FAILED', `the namespaces of node ${options.node} could not be set up: ${keeper.logTail()}`);
      }
      const init = childPids(keeper.pid)[0];
      if (init !== undefined && existsSync(ready)) {
        debug('node %s: sandbox init pid %d', options.node, init);
        return new NodeSandbox(keeper, init);
      }
      if (Date.now() > deadline) {
        await keeper.kill();
        throw new EnvironmentError('NODE_SANDBOX_FAILED', `the namespaces of node ${options.node} were not ready within ${(options.timeoutMs ?? 15_000) / 1000}s: ${keeper.logTail()}`);
      }
      await sleep(50);
    }
  }

  /** The command prefix that runs a program inside the node (its PID and mount namespaces). */
  enter(): string[] {
    return ['nsenter', `--target=${this.initPid}`, '--pid', '--mount', '--'];
  }

  get alive(): boolean {
    return this.keeper.exit === undefined;
  }

  /** Power off: the init dies, and with it every process of the node; its mounts go with its namespace. */
  async kill(): Promise<void> {
    await this.keeper.kill();
    // The keeper (unshare) SIGKILLs the init as it dies; wait until the init is really gone.
    const deadline = Date.now() + 10_000;
    while (existsSync(`/proc/${this.initPid}`) && isSameInit(this.initPid) && Date.now() < deadline) await sleep(50);
  }
}

function isSameInit(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').length > 0;
  } catch {
    return false;
  }
}
