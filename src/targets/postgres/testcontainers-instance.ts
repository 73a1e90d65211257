import createDebug from 'debug';
import type { ExecResult, StartedTestContainer } from 'testcontainers';
import { EnvironmentError } from '../../engine/errors.js';
import { withClient } from './with-client.js';
import type { ConnectionInfo, PgInstance } from './types.js';

const debug = createDebug('drill:pg');

export type ContainerExec = Pick<StartedTestContainer, 'exec'>;

/** Runs a command in the container as the postgres user; an unexpected exit code is an EnvironmentError. */
export async function execAsPostgres(container: ContainerExec, command: string[], okCodes = [0]): Promise<ExecResult> {
  debug('container exec %s', command.join(' '));
  const result = await container.exec(command, { user: 'postgres' });
  if (!okCodes.includes(result.exitCode)) {
    throw new EnvironmentError(
      'CONTAINER_EXEC_FAILED',
      `${command.slice(0, 2).join(' ')} in the PostgreSQL container failed (exit code ${result.exitCode}): ${result.output.trim().slice(-2000)}`,
    );
  }
  return result;
}

export interface ContainerInstanceOptions {
  name: string;
  container: ContainerExec;
  /** Data directory inside the container: the harness cannot reach it, so it is not `dataDir`. */
  pgdata: string;
  /** Port inside the container; `connection` has the one Docker mapped it to. */
  port: number;
  logFile: string;
  connection: ConnectionInfo;
  /** pg_ctl -o: the primary's settings live on its command line, not in its postgresql.conf. */
  startOptions?: string;
}

/** One PostgreSQL server inside the container, driven with pg_ctl through docker exec. */
export class ContainerInstance implements PgInstance {
  /** The data directory is inside the container, out of reach: file-level faults need the native provider. */
  readonly dataDir = undefined;

  constructor(private readonly options: ContainerInstanceOptions) {}

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
    const extra = this.options.startOptions ? ['-o', this.options.startOptions] : [];
    const result = await this.pgCtl(['start', '-w', '-t', '120', '-l', this.options.logFile, ...extra], [0, 1]);
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

  async kill(): Promise<void> {
    debug('SIGKILL %s', this.name);
    await execAsPostgres(
      this.options.container,
      ['sh', '-c', 'kill -KILL "$(head -n 1 "$1/postmaster.pid")"', 'drill-kill', this.options.pgdata],
      [0, 1, 2],
    );
    // Backends notice the dead postmaster and exit on their own; wait so the port is free.
    for (let i = 0; i < 100 && (await this.isRunning()); i++) await new Promise((r) => setTimeout(r, 50));
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
