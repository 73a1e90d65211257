import { rmSync } from 'node:fs';
import path from 'node:path';
import createDebug from 'debug';
import { EnvironmentError } from '../../engine/errors.js';
import { createRecordedTempDir } from '../../engine/recorded-temp-dir.js';
import type { ResourceLedger } from '../../engine/resource-ledger.js';
import { SupervisedProcess } from '../kubernetes/supervised-process.js';
import { waitForHealthy } from '../kubernetes/wait-for-health.js';
import { freeLoopbackPort } from '../postgres/free-port.js';
import { requireToxiproxyBinary } from './toxiproxy-binary.js';
import { ToxiproxyHttpApi } from './toxiproxy-api.js';

const debug = createDebug('drill:net');

export interface ToxiproxyServerOptions {
  ledger: ResourceLedger;
  runId: string;
  signal?: AbortSignal;
  /** Gets the server before it is waited for, so teardown stops a server that never answered. */
  register?: (server: ToxiproxyServer) => void;
}

/**
 * One Toxiproxy server per drill: its API on a free loopback port (the proxies it makes listen on
 * loopback too), recorded in the resource ledger as a process (program path and API port on its
 * command line, with its start time) and a temp dir, so a killed drill's server is reaped by the
 * next `drill run` or `drill cleanup`. stop() ends it and removes its directory.
 */
export class ToxiproxyServer {
  private constructor(
    readonly api: ToxiproxyHttpApi,
    private readonly process: SupervisedProcess,
    private readonly dir: string,
  ) {}

  static async start(options: ToxiproxyServerOptions): Promise<ToxiproxyServer> {
    const program = requireToxiproxyBinary();
    const dir = createRecordedTempDir(options.ledger, `drill-toxiproxy-${options.runId.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 40)}-`);
    const port = await freeLoopbackPort();
    const child = SupervisedProcess.start({
      name: 'toxiproxy-server',
      file: program,
      args: ['-host', '127.0.0.1', '-port', String(port)],
      logFile: path.join(dir, 'toxiproxy.log'),
      ledger: options.ledger,
      // Program path and API port together (and the recorded start time): only this server.
      match: `${program} -host 127.0.0.1 -port ${port}`,
      env: {},
      cwd: dir,
    });
    const server = new ToxiproxyServer(new ToxiproxyHttpApi(`http://127.0.0.1:${port}`), child, dir);
    options.register?.(server);
    try {
      // Asked every 20 ms: the Go binary answers within tens of milliseconds, and a drill with a
      // replication link and a database link starts two (the default 250 ms cost each a quarter second).
      await waitForHealthy(child, { url: `${server.api.endpoint}/version` }, { timeoutMs: 30_000, pollMs: 20, ...(options.signal ? { signal: options.signal } : {}) });
    } catch (error) {
      if (options.signal?.aborted) throw error;
      throw new EnvironmentError('TOXIPROXY_NOT_READY', `Toxiproxy did not start (log: ${path.join(dir, 'toxiproxy.log')}): ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    debug('toxiproxy (pid %d) at %s', child.pid, server.api.endpoint);
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
