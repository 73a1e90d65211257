import { spawn, type ChildProcess } from 'node:child_process';
import { chownSync, closeSync, constants, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import http from 'node:http';
import createDebug from 'debug';
import { EnvironmentError } from '../../engine/errors.js';
import type { ResourceLedger } from '../../engine/resource-ledger.js';
import { childEnvironment } from './child-environment.js';
import { currentMounts } from './mounts.js';
import { runCommand, type RunAs } from './run-command.js';

const debug = createDebug('drill:disk');

/** The file-system type drillfs mounts as (/proc/mounts): what the reaper checks, with the source. */
export const DRILLFS_FSTYPE = 'fuse.drillfs';
const READY_WAIT_MS = 15_000;

/** One fault rule: reads and/or writes of paths (relative to the mount) matching `pattern` fail with EIO or wait. */
export interface IoRule {
  pattern: string;
  ops: 'read' | 'write' | 'rw';
  action: 'eio' | 'delay';
  delayMs?: number;
}

/** What the disk I/O faults need of a data directory on drillfs: set the rules, read how often they hit. */
export interface IoFaultControl {
  readonly path: string;
  setRules(rules: IoRule[]): Promise<{ hits: Record<string, number> }>;
  state(): Promise<{ rules: IoRule[] | null; hits: Record<string, number> }>;
}

/**
 * A drillfs mount: a FUSE passthrough of `backing` at `path`, its daemon a child of the drill, its
 * rules set over a unix socket (mode 0600, in the drill's temp directory). Recorded in the ledger
 * (kind `fuse-mount`) before it is mounted; unmounting it ends the daemon.
 */
export class DrillfsMount implements IoFaultControl {
  private constructor(
    readonly path: string,
    readonly source: string,
    private readonly socket: string,
    private readonly daemon: ChildProcess,
  ) {}

  static async create(options: { binary: string; backing: string; path: string; socket: string; log: string; source: string; ledger: ResourceLedger; runAs?: RunAs }): Promise<DrillfsMount> {
    for (const dir of [options.backing, options.path]) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      if (options.runAs) chownSync(dir, options.runAs.uid, options.runAs.gid);
    }
    // In the ledger before it exists: a kill between the two leaves an entry the reaper finds absent.
    options.ledger.record({ kind: 'fuse-mount', path: options.path, source: options.source });
    // Its output goes to a file of the temp root, not a pipe: the drill stops reading once it is
    // mounted, and a write into a closed pipe would kill it (SIGPIPE) under the running server.
    // Never through a symlink (the log's directory is the drill's own, this is belt and braces).
    const log = openSync(options.log, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
    let daemon: ChildProcess;
    try {
      daemon = spawn(options.binary, ['-backing', options.backing, '-mount', options.path, '-control', options.socket, '-fsname', options.source], {
        stdio: ['ignore', log, log],
        // A process group of its own: a kill -9 of the drill's group must not take the file system
        // from under the PostgreSQL still running on it (the reaper then could not even read its
        // postmaster.pid to stop it). It ends when its mount goes, which the reaper sees to.
        detached: true,
        // Nothing of the drill's environment (secrets included) is the daemon's business.
        env: childEnvironment(),
      });
    } finally {
      closeSync(log);
    }
    const mount = new DrillfsMount(options.path, options.source, options.socket, daemon);
    const output = () => (existsSync(options.log) ? readFileSync(options.log, 'utf8').slice(-2000).trim() : '');
    const until = Date.now() + READY_WAIT_MS;
    while (!mount.mounted()) {
      if (daemon.exitCode !== null || daemon.signalCode !== null) {
        throw new EnvironmentError('DRILLFS_FAILED', `drillfs exited (${daemon.exitCode ?? daemon.signalCode}) before mounting ${options.path}: ${output()}`);
      }
      if (Date.now() > until) {
        await mount.unmount();
        throw new EnvironmentError('DRILLFS_NOT_READY', `drillfs did not mount ${options.path} within ${READY_WAIT_MS / 1000} s: ${output()}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    // The drill does not wait for it to exit: the mount's end is its end.
    daemon.unref();
    debug('drillfs %s mounted at %s (pid %d)', options.source, options.path, daemon.pid);
    return mount;
  }

  setRules(rules: IoRule[]): Promise<{ hits: Record<string, number> }> {
    return this.request('PUT', rules);
  }

  state(): Promise<{ rules: IoRule[] | null; hits: Record<string, number> }> {
    return this.request('GET');
  }

  mounted(): boolean {
    return currentMounts().some((m) => m.path === this.path && m.fstype === DRILLFS_FSTYPE && m.source === this.source);
  }

  /** Unmounts it (lazily when busy); the daemon then ends on its own, and is killed if it does not. */
  async unmount(): Promise<void> {
    if (this.mounted()) await runCommand('umount', [this.path]).catch(() => runCommand('umount', ['--lazy', this.path]));
    if (this.daemon.exitCode === null && this.daemon.signalCode === null) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.daemon.kill('SIGKILL');
          resolve();
        }, 5_000);
        this.daemon.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  private request<T>(method: 'GET' | 'PUT', body?: unknown): Promise<T> {
    return new Promise((resolve, reject) => {
      const req = http.request({ socketPath: this.socket, path: '/faults', method, timeout: 10_000 }, (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => {
          if (res.statusCode !== 200) reject(new EnvironmentError('DRILLFS_CONTROL_FAILED', `drillfs at ${this.path} refused the rules (${res.statusCode}): ${text.trim()}`));
          else resolve(JSON.parse(text) as T);
        });
      });
      req.on('error', (error) => reject(new EnvironmentError('DRILLFS_CONTROL_FAILED', `drillfs at ${this.path} did not answer on ${this.socket}: ${error.message}`, { cause: error })));
      req.on('timeout', () => req.destroy(new Error('no answer within 10 s')));
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });
  }
}
