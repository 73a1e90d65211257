import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import createDebug from 'debug';
import { EnvironmentError } from '../../engine/errors.js';
import { createRecordedTempDir } from '../../engine/recorded-temp-dir.js';
import type { ResourceLedger } from '../../engine/resource-ledger.js';
import { SupervisedProcess } from '../kubernetes/supervised-process.js';
import { waitForHealthy } from '../kubernetes/wait-for-health.js';
import { freeLoopbackPort } from '../postgres/free-port.js';
import { childEnvironment, type ServiceEnvironment } from './service-environment.js';
import { defaultServiceSource, serviceProgram, type ServiceSource } from './service-program.js';

const debug = createDebug('drill:service');

export type ServiceMode = 'api' | 'worker' | 'scheduler' | 'reader';

export interface ServiceProcessesOptions {
  runId: string;
  mode: ServiceMode;
  /** How many processes of the mode (default 1), each on its own loopback port. */
  replicas?: number;
  environment: ServiceEnvironment;
  ledger: ResourceLedger;
  /** Default: the bundle, or the source through tsx when DRILL_SUT_FROM_SOURCE=1. */
  source?: ServiceSource;
  /**
   * When start() returns: `health` (default) once every process answers GET /health with 200,
   * `livez` once every process serves, `none` right after spawning (a release that must crash).
   */
  readiness?: 'health' | 'livez' | 'none';
  readyTimeoutMs?: number;
  /** Logs go here and stay (a run directory); default the launch's temp dir, removed on stop. */
  logDir?: string;
  /**
   * Where process `index` (1, 2, ...) listens; default 127.0.0.1 on a free port. A region gives
   * each of its processes an address of its loopback range (src/targets/regions).
   */
  address?: (index: number) => Promise<{ host: string; port: number }>;
  signal?: AbortSignal;
}

export interface ServiceInstance {
  /** `truststream-<mode>-<n>`. */
  name: string;
  port: number;
  /** The loopback address it binds (127.0.0.1 unless a region gave it one). */
  host: string;
  /** http://<host>:<port> */
  url: string;
  logFile: string;
  process: SupervisedProcess;
}

/**
 * TrustStram as plain processes, for scenarios without Kubernetes: N processes of one mode on free
 * loopback ports, each with an explicit environment, a log file and an entry in the resource
 * ledger (pid + the launch's temp dir as the command-line match, so `drill run`'s reaper stops
 * them if the drill dies and never touches a process that merely reuses the pid). stop() (or
 * `await using`) stops them gracefully (SIGTERM, SIGKILL after the grace) and removes the temp dir.
 */
export class ServiceProcesses {
  private stopped = false;

  private constructor(
    readonly mode: ServiceMode,
    readonly dir: string,
    readonly instances: ServiceInstance[],
  ) {}

  static async start(options: ServiceProcessesOptions, register?: (launch: ServiceProcesses) => void): Promise<ServiceProcesses> {
    const replicas = options.replicas ?? 1;
    if (!Number.isInteger(replicas) || replicas < 1) throw new EnvironmentError('SERVICE_REPLICAS_INVALID', `replicas must be a positive integer (got ${replicas})`);
    const dir = createRecordedTempDir(options.ledger, `drill-sut-${options.runId.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 40)}-`);
    const launch = new ServiceProcesses(options.mode, dir, []);
    register?.(launch);
    try {
      const program = await serviceProgram(options.source ?? defaultServiceSource(), dir);
      const logDir = options.logDir ?? dir;
      mkdirSync(logDir, { recursive: true });
      for (let i = 1; i <= replicas; i++) {
        options.signal?.throwIfAborted();
        const name = `truststream-${options.mode}-${i}`;
        const { host, port } = options.address ? await options.address(i) : { host: '127.0.0.1', port: await freeLoopbackPort() };
        const logFile = path.join(logDir, `${name}.log`);
        const child = SupervisedProcess.start({
          name,
          file: program.file,
          // The instance id carries the temp dir's name: that is the ledger's command-line match.
          args: [...program.args, options.mode, '--instance', `${name}@${path.basename(dir)}`],
          logFile,
          ledger: options.ledger,
          match: path.basename(dir),
          env: childEnvironment(options.mode, port, { ...options.environment, bind: host }),
          cwd: dir,
        });
        launch.instances.push({ name, host, port, url: `http://${host}:${port}`, logFile, process: child });
        debug('started %s (pid %d) on %s:%d from %s', name, child.pid, host, port, program.describe);
      }
      await launch.waitReady(options.readiness ?? 'health', options.readyTimeoutMs ?? 60_000, options.signal);
      return launch;
    } catch (error) {
      await launch.stop();
      throw error;
    }
  }

  /** Waits until every running process is ready (see `readiness`); fails with the log tail of one that exits or never gets there. */
  async waitReady(readiness: 'health' | 'livez' | 'none', timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (readiness === 'none') return;
    const pathOf = readiness === 'health' ? '/health' : '/livez';
    await Promise.all(
      this.instances.map((i) =>
        // Asked every 20 ms: the processes are ready in about 0.3 s, which a 250 ms poll made 0.5 s in every drill.
        waitForHealthy(i.process, { url: `${i.url}${pathOf}` }, { timeoutMs, pollMs: 20, ...(signal ? { signal } : {}) }).catch((error: unknown) => {
          if (signal?.aborted) throw error;
          throw new EnvironmentError(
            'SERVICE_NOT_READY',
            `TrustStram ${i.name} did not become ready (${readiness}): ${error instanceof Error ? error.message : String(error)}`,
            { cause: error },
          );
        }),
      ),
    );
  }

  get pids(): number[] {
    return this.instances.map((i) => i.process.pid);
  }

  /** Graceful stop of every process (SIGTERM, SIGKILL after `graceMs`), then the temp dir goes. Idempotent. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await Promise.all(this.instances.map((i) => i.process.stop(graceMs)));
    rmSync(this.dir, { recursive: true, force: true });
    debug('stopped %d %s process(es)', this.instances.length, this.mode);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
