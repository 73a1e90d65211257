import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import createDebug from 'debug';
import pg from 'pg';
import { EnvironmentError } from '../../engine/errors.js';
import { runCommand, type RunAs } from '../process/run-command.js';
import type { SizedVolume } from '../process/tmpfs-volume.js';
import type { IoFaultControl } from '../process/drillfs-mount.js';
import type { PostgresBinaries } from './binaries.js';
import { LocalDataDirectory } from './local-data-directory.js';
import { postmasterOf, serverProcessesIn } from './data-dir-processes.js';
import { isPostgresPid, serving, workingElsewhere } from './native-process.js';
import { readLockFile, startedAndReady, stopped } from './lock-file.js';
import { soonerThanPgCtl } from './sooner-than-pg-ctl.js';
import type { ConnectionInfo, LocalServerProcesses, PgInstance, ServerCgroups } from './types.js';
import { AttachedCgroups, joinCgroupsThen } from '../process/attached-cgroups.js';
import { endClient } from './end-client.js';

const debug = createDebug('drill:pg');

export interface NativeInstanceOptions {
  name: string;
  dataDir: string;
  socketDir: string;
  logFile: string;
  port: number;
  /** The loopback address it listens on and is reached at (default 127.0.0.1; a region's database: an address of the region's range). */
  host?: string;
  /** The password of the `postgres` role (SCRAM over TCP; src/targets/postgres/native-deployment.ts). */
  password: string;
  binaries: PostgresBinaries;
  runAs: RunAs | undefined;
}

/** One PostgreSQL server process tree over one data directory, driven with pg_ctl. */
export class NativeInstance implements PgInstance {
  readonly connection: ConnectionInfo;
  readonly dataDirectory: LocalDataDirectory;
  /** Set by the deployment when it put this server's pg_wal on a volume of its own. */
  walVolume?: SizedVolume;
  /** The drill's cgroups every start joins (resource faults). */
  readonly resourceLimits: ServerCgroups = new AttachedCgroups();
  /** Set by the deployment when it mounted a volume of its own at this server's data directory. */
  dataVolume?: SizedVolume;
  /** Set by the deployment when it put this server's data directory on drillfs. */
  ioFaults?: IoFaultControl;
  readonly localProcesses: LocalServerProcesses = {
    postmasterPid: () => this.postmasterPid(),
    postmaster: () => postmasterOf(this.dataDir),
    serving: () => serving(this),
    others: (except) => serverProcessesIn(this.dataDir, except),
  };

  constructor(private readonly options: NativeInstanceOptions) {
    this.connection = { host: options.host ?? '127.0.0.1', port: options.port, user: 'postgres', database: 'postgres', password: options.password };
    this.dataDirectory = new LocalDataDirectory(options.dataDir, options.binaries, options.runAs);
  }

  get name(): string {
    return this.options.name;
  }

  get dataDir(): string {
    return this.options.dataDir;
  }

  get logFile(): string {
    return this.options.logFile;
  }

  /** The directory of its Unix socket (inside the workspace, which only the PostgreSQL user can enter). */
  get socketDir(): string {
    return this.options.socketDir;
  }

  /** Settings appended to postgresql.conf; later lines win, so a restored copy can override them. */
  writeSettings(settings: Record<string, string | number>): Promise<void> {
    return this.dataDirectory.appendSettings(settings, this.name);
  }

  postmasterPid(): number | undefined {
    const pidFile = path.join(this.dataDir, 'postmaster.pid');
    if (!existsSync(pidFile)) return undefined;
    const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  }

  /**
   * The pid file's pid is a PostgreSQL process that is not working in another directory: this data
   * directory's postmaster, or one exiting or a zombie not yet reaped (neither has a working
   * directory left to read, and pg_ctl cannot start a server over a pid that still exists). A live
   * PostgreSQL elsewhere (another server that got a stale pid file's number) is not this server.
   */
  async isRunning(): Promise<boolean> {
    const pid = this.postmasterPid();
    return pid !== undefined && isPostgresPid(pid) && !workingElsewhere(pid, this.dataDir);
  }

  async start(): Promise<void> {
    debug('starting %s on port %d', this.name, this.options.port);
    const since = Date.now();
    const stale = readLockFile(this.dataDir)?.pid;
    try {
      await this.pgCtlUntil(['start', '-w', '-t', '120', '-l', this.options.logFile], () => startedAndReady(this.dataDir, since, stale));
    } catch (error) {
      throw new EnvironmentError(
        'PG_START_FAILED',
        `PostgreSQL instance "${this.name}" did not start: ${this.logTail()} (log: ${this.options.logFile})`,
        { cause: error },
      );
    }
  }

  async stop(): Promise<void> {
    if (!(await this.isRunning())) return;
    debug('stopping %s', this.name);
    await this.pgCtlUntil(['stop', '-w', '-t', '60', '-m', 'fast'], () => stopped(this.dataDir));
  }

  /** Immediate stop for teardown: no checkpoint, nothing to wait for. */
  async stopImmediately(): Promise<void> {
    if (!(await this.isRunning())) return;
    await this.pgCtlUntil(['stop', '-w', '-t', '30', '-m', 'immediate'], () => stopped(this.dataDir)).catch(() => this.kill());
  }

  async kill(): Promise<void> {
    // A stale postmaster.pid after a crash may name a pid the kernel has given to someone else (or
    // to another drill's PostgreSQL): only this data directory's postmaster is killed.
    const pid = postmasterOf(this.dataDir);
    if (pid) {
      debug('SIGKILL %s (pid %d)', this.name, pid);
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        return;
      }
    }
    // Backends notice the dead postmaster and exit on their own, and a zombie postmaster is reaped by
    // its parent: wait for both, so the port, the files and the pid are free.
    for (let i = 0; i < 100 && (await this.isRunning()); i++) await new Promise((r) => setTimeout(r, 50));
  }

  async serverVersion(): Promise<string> {
    const client = new pg.Client({ ...this.connection, connectionTimeoutMillis: 5000 });
    await client.connect();
    try {
      return (await client.query<{ server_version: string }>('show server_version')).rows[0]!.server_version;
    } finally {
      await endClient(client);
    }
  }

  readServerLog(): Promise<string> {
    return readFile(this.options.logFile, 'utf8');
  }

  logTail(lines = 8): string {
    try {
      return readFileSync(this.options.logFile, 'utf8').trim().split('\n').slice(-lines).join(' | ');
    } catch {
      return '(no server log)';
    }
  }

  /** pg_ctl waiting for `reached`, settled as soon as the lock file shows it (sooner-than-pg-ctl.ts). */
  private pgCtlUntil(args: string[], reached: () => boolean): Promise<void> {
    return soonerThanPgCtl((signal) => this.pgCtl(args, signal), reached, `${args[0]} ${this.name}`);
  }

  private pgCtl(args: string[], signal?: AbortSignal) {
    const pgCtl = this.options.binaries.path('pg_ctl');
    // A start under a resource limit: pg_ctl joins the drill's cgroups before it runs, so the
    // postmaster and everything it forks are inside from their first instruction.
    const [file, argv] =
      args[0] === 'start' && this.resourceLimits.attached.length > 0
        ? joinCgroupsThen(this.resourceLimits.attached, pgCtl, ['-D', this.dataDir, ...args])
        : [pgCtl, ['-D', this.dataDir, ...args]];
    return runCommand(file, argv, {
      runAs: this.options.runAs,
      env: { LC_ALL: 'C' },
      ...(signal ? { signal } : {}),
    });
  }
}
