import createDebug from 'debug';
import type { ExecResult } from 'testcontainers';
import { EnvironmentError } from '../../engine/errors.js';
import { ContainerDataDirectory } from './container-data-directory.js';
import { execAsPostgres, type ContainerExec } from './container-exec.js';
import { withClient } from './with-client.js';
import type { ConnectionInfo, PgInstance } from './types.js';

const debug = createDebug('drill:pg');

/** Backends notice a dead postmaster within milliseconds; this only bounds a stuck one. */
const CRASH_EXIT_TIMEOUT_S = 10;

/**
 * SIGKILL of a postmaster inside the container, then the wait until none of its processes runs
 * (a zombie counts as gone: it runs nothing and acknowledges nothing). Its processes are those
 * whose working directory is the data directory: the postmaster chdirs there and every child
 * inherits it, so re-parented backends are found too. Exit 3: stragglers, listed on stdout.
 */
const CRASH_SCRIPT = `
pgdata="$1"; limit="$2"
members() {
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/cwd" 2>/dev/null)" = "$pgdata" ] || continue
    state="$(sed 's/.*) //' "$p/stat" 2>/dev/null | cut -d' ' -f1)"
    [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ] && echo "\${p#/proc/}"
  done
}
pm="$(head -n 1 "$pgdata/postmaster.pid" 2>/dev/null)"
[ -n "$pm" ] && kill -KILL "$pm" 2>/dev/null
i=0
while [ "$i" -lt $((limit * 20)) ]; do
  left="$(members)"
  [ -z "$left" ] && exit 0
  sleep 0.05; i=$((i + 1))
done
echo $left; exit 3`;

export interface ContainerInstanceOptions {
  name: string;
  container: ContainerExec;
  /** The container's short id, for messages. */
  containerName: string;
  /** Data directory inside the container. */
  pgdata: string;
  /** Port inside the container; `connection` has the one Docker mapped it to. */
  port: number;
  logFile: string;
  connection: ConnectionInfo;
}

/** One PostgreSQL server inside the container, driven with pg_ctl through docker exec. */
export class ContainerInstance implements PgInstance {
  readonly dataDirectory: ContainerDataDirectory;

  constructor(private readonly options: ContainerInstanceOptions) {
    this.dataDirectory = new ContainerDataDirectory(options.container, options.pgdata, options.containerName);
  }

  get name(): string {
    return this.options.name;
  }

  get connection(): ConnectionInfo {
    return this.options.connection;
  }

  get port(): number {
    return this.options.port;
  }

  async isRunning(): Promise<boolean> {
    // pg_ctl status: 0 running, 3 not running, 4 no data directory.
    return (await this.pgCtl(['status'], [0, 3, 4])).exitCode === 0;
  }

  async start(): Promise<void> {
    debug('starting %s (container port %d)', this.name, this.port);
    const result = await this.pgCtl(['start', '-w', '-t', '120', '-l', this.options.logFile], [0, 1]);
    if (result.exitCode !== 0) {
      throw new EnvironmentError(
        'PG_START_FAILED',
        `PostgreSQL instance "${this.name}" in the container did not start: ${await this.logTail()} (log: ${this.options.logFile} in the container)`,
      );
    }
  }

  async stop(): Promise<void> {
    if (!(await this.isRunning())) return;
    debug('stopping %s', this.name);
    await this.pgCtl(['stop', '-w', '-t', '60', '-m', 'fast']);
  }

  async stopImmediately(): Promise<void> {
    if (!(await this.isRunning())) return;
    await this.pgCtl(['stop', '-w', '-t', '30', '-m', 'immediate']).catch(() => this.kill());
  }

  /** A crash: SIGKILL of the postmaster, returning once none of the server's processes runs. */
  async kill(): Promise<void> {
    debug('SIGKILL %s', this.name);
    const result = await execAsPostgres(this.options.container, ['sh', '-c', CRASH_SCRIPT, 'drill-crash', this.options.pgdata, String(CRASH_EXIT_TIMEOUT_S)], [0, 3]);
    if (result.exitCode === 3) {
      throw new EnvironmentError(
        'CRASH_ORPHANS',
        `${this.name} was sent SIGKILL but processes ${result.stdout.trim()} of it still run in the container after ${CRASH_EXIT_TIMEOUT_S} s; ` +
          'they could still acknowledge writes. Check the container',
      );
    }
  }

  async serverVersion(): Promise<string> {
    return withClient(this.connection, async (c) =>
      (await c.query<{ server_version: string }>('show server_version')).rows[0]!.server_version,
    );
  }

  async logTail(lines = 8): Promise<string> {
    const result = await execAsPostgres(this.options.container, ['tail', '-n', String(lines), this.options.logFile], [0, 1]);
    return result.exitCode === 0 ? result.stdout.trim().split('\n').join(' | ') : '(no server log)';
  }

  private pgCtl(args: string[], okCodes?: number[]): Promise<ExecResult> {
    return execAsPostgres(this.options.container, ['pg_ctl', '-D', this.options.pgdata, ...args], okCodes);
  }
}
