import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import createDebug from 'debug';
import { drillCacheDir } from '../../engine/cache-dir.js';
import { EnvironmentError } from '../../engine/errors.js';
import { createRecordedTempDir } from '../../engine/recorded-temp-dir.js';
import type { ResourceLedger } from '../../engine/resource-ledger.js';
import { SupervisedProcess } from '../kubernetes/supervised-process.js';
import { waitForHealthy } from '../kubernetes/wait-for-health.js';
import { freeLoopbackPort } from '../postgres/free-port.js';

const debug = createDebug('drill:regions');

/** The moto release tools/setup.sh installs (its Route 53 gaps are documented against it). */
export const MOTO_VERSION = '5.2.1';

/** `$DRILL_MOTO_VENV`, else `${DRILL_CACHE_DIR:-~/.cache/drill}/moto-venv` (where tools/setup.sh installs it). */
export function motoVenv(env: NodeJS.ProcessEnv = process.env): string {
  return env.DRILL_MOTO_VENV || path.join(drillCacheDir(env), 'moto-venv');
}

/**
 * An embedded Route 53 API: moto's server (PyPI `moto[server]`) on a free loopback port, one per
 * drill, recorded in the resource ledger (its program path and port on the command line, with its
 * start time) so a killed drill's server is reaped. stop() ends it and removes its directory.
 */
export class MotoServer {
  private constructor(
    readonly endpoint: string,
    private readonly process: SupervisedProcess,
    private readonly dir: string,
  ) {}

  static async start(options: { ledger: ResourceLedger; runId: string; signal?: AbortSignal; register?: (server: MotoServer) => void }): Promise<MotoServer> {
    const program = path.join(motoVenv(), 'bin', 'moto_server');
    if (!existsSync(program)) {
      throw new EnvironmentError('MOTO_MISSING', `the embedded Route 53 API (moto ${MOTO_VERSION}) is not installed at ${program}; run npm run setup (tools/setup.sh installs it), or set DRILL_MOTO_VENV to a virtualenv with moto[server]`);
    }
    const dir = createRecordedTempDir(options.ledger, `drill-moto-${options.runId.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 40)}-`);
    const port = await freeLoopbackPort();
    const child = SupervisedProcess.start({
      name: 'moto-server',
      file: program,
      args: ['-H', '127.0.0.1', '-p', String(port)],
      logFile: path.join(dir, 'moto.log'),
      ledger: options.ledger,
      // Program path and port: together, and with the recorded start time, only this server.
      match: `${program} -H 127.0.0.1 -p ${port}`,
      // Its working directory is the temp dir, so nothing it writes lands in the caller's.
      env: { MOTO_PORT: String(port) },
      cwd: dir,
    });
    const server = new MotoServer(`http://127.0.0.1:${port}`, child, dir);
    options.register?.(server);
    try {
      // moto answers its own dashboard API once the Flask app serves.
      await waitForHealthy(child, { url: `${server.endpoint}/moto-api/data.json` }, { timeoutMs: 60_000, ...(options.signal ? { signal: options.signal } : {}) });
    } catch (error) {
      if (options.signal?.aborted) throw error;
      throw new EnvironmentError('MOTO_NOT_READY', `the embedded Route 53 API (moto) did not start: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    debug('moto server (pid %d) at %s', child.pid, server.endpoint);
    return server;
  }

  get pid(): number {
    return this.process.pid;
  }

  async stop(): Promise<void> {
    await this.process.stop(5_000);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
