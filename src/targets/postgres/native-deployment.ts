import { chownSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import createDebug from 'debug';
import type { Clock } from '../../engine/clock.js';
import { StepFailedError } from '../../engine/errors.js';
import type { ResourceLedger } from '../../engine/resource-ledger.js';
import { runCommand, type RunAs } from '../process/run-command.js';
import { findPostgresBinaries, type PostgresBinaries } from './binaries.js';
import { freeLoopbackPort } from './free-port.js';
import { NativeInstance } from './native-instance.js';
import { postgresRunAs } from './postgres-user.js';
import { recoverySettings } from './recovery-settings.js';
import type { BaseBackup, PgInstance, PostgresDeployment, RecoveryTargetSpec } from './types.js';

const debug = createDebug('drill:pg');

export interface NativeDeploymentOptions {
  runId: string;
  clock: Clock;
  ledger: ResourceLedger;
}

/**
 * PostgreSQL from the machine's own binaries: a primary with data checksums and WAL archiving, base
 * backups and restores into new instances, all under one temp directory that dispose() removes.
 */
export class NativeDeployment implements PostgresDeployment {
  readonly provider = 'native' as const;
  readonly drillTarget = true;
  private readonly instances: NativeInstance[] = [];
  private readonly backups: BaseBackup[] = [];

  private constructor(
    private readonly root: string,
    readonly binaries: PostgresBinaries,
    private readonly runAs: RunAs | undefined,
    private readonly options: NativeDeploymentOptions,
    readonly primary: NativeInstance,
  ) {}

  get archiveDir(): string {
    return this.archiveOf(this.primary.name);
  }

  /** Creates the temp root and an initialised, running primary. Call dispose() whatever happens. */
  static async create(options: NativeDeploymentOptions, register: (d: NativeDeployment) => void): Promise<NativeDeployment> {
    const binaries = findPostgresBinaries();
    const runAs = postgresRunAs();
    const root = mkdtempSync(path.join(os.tmpdir(), `drill-${options.runId.slice(-24)}-`));
    options.ledger.record({ kind: 'temp-dir', path: root });
    if (runAs) chownSync(root, runAs.uid, runAs.gid);
    const primary = await NativeDeployment.newInstance(root, 'primary', binaries, runAs, options);
    const deployment = new NativeDeployment(root, binaries, runAs, options, primary);
    deployment.instances.push(primary);
    register(deployment);
    await deployment.initPrimary(primary);
    return deployment;
  }

  private static async newInstance(
    root: string,
    name: string,
    binaries: PostgresBinaries,
    runAs: RunAs | undefined,
    options: NativeDeploymentOptions,
  ): Promise<NativeInstance> {
    const home = path.join(root, name);
    await mkdir(path.join(home, 'sock'), { recursive: true });
    if (runAs) {
      chownSync(home, runAs.uid, runAs.gid);
      chownSync(path.join(home, 'sock'), runAs.uid, runAs.gid);
    }
    const dataDir = path.join(home, 'data');
    options.ledger.record({ kind: 'pg-data-dir', path: dataDir, bindir: binaries.bindir, uid: runAs?.uid, gid: runAs?.gid });
    return new NativeInstance({
      name,
      dataDir,
      socketDir: path.join(home, 'sock'),
      logFile: path.join(home, 'server.log'),
      port: await freeLoopbackPort(),
      binaries,
      runAs,
    });
  }

  private archiveOf(instanceName: string): string {
    return path.join(this.root, 'archive', instanceName);
  }

  private async ownedDir(dir: string): Promise<void> {
    await mkdir(dir, { recursive: true });
    if (this.runAs) chownSync(dir, this.runAs.uid, this.runAs.gid);
  }

  private async initPrimary(primary: NativeInstance): Promise<void> {
    await this.ownedDir(path.join(this.root, 'archive'));
    await this.ownedDir(this.archiveOf(primary.name));
    await runCommand(
      this.binaries.path('initdb'),
      ['-D', primary.dataDir, '--data-checksums', '-A', 'trust', '-U', 'postgres', '--locale=C', '-E', 'UTF8', '--no-sync'],
      { runAs: this.runAs, env: { LC_ALL: 'C' } },
    );
    await primary.writeSettings(this.baseSettings(primary));
    await primary.start();
  }

  private baseSettings(instance: NativeInstance): Record<string, string | number> {
    const archive = this.archiveOf(instance.name);
    return {
      listen_addresses: '127.0.0.1',
      port: instance.connection.port,
      unix_socket_directories: path.join(path.dirname(instance.dataDir), 'sock'),
      wal_level: 'replica',
      archive_mode: 'on',
      archive_command: `test ! -f '${archive}/%f' && cp '%p' '${archive}/%f'`,
      max_wal_senders: 10,
      shared_buffers: '32MB',
      max_connections: 50,
      log_line_prefix: '%m [%p] ',
    };
  }

  async takeBaseBackup(from: PgInstance = this.primary): Promise<BaseBackup> {
    const id = `backup-${this.backups.length + 1}`;
    const dir = path.join(this.root, 'backups', id);
    await this.ownedDir(path.dirname(dir));
    await runCommand(
      this.binaries.path('pg_basebackup'),
      ['-h', '127.0.0.1', '-p', String(from.connection.port), '-U', 'postgres', '-D', dir, '-X', 'stream', '-c', 'fast', '--no-sync'],
      { runAs: this.runAs },
    );
    const label = readFileSync(path.join(dir, 'backup_label'), 'utf8');
    const manifest = JSON.parse(readFileSync(path.join(dir, 'backup_manifest'), 'utf8')) as {
      'WAL-Ranges': Array<{ 'Start-LSN': string; 'End-LSN': string }>;
    };
    const range = manifest['WAL-Ranges'][0]!;
    const backup: BaseBackup = {
      id,
      dir,
      source: from.name,
      startLsn: range['Start-LSN'],
      endLsn: range['End-LSN'],
      takenAtWall: /START TIME: (.*)/.exec(label)?.[1] ?? new Date().toISOString(),
      tTaken: this.options.clock.now(),
    };
    this.backups.push(backup);
    debug('base backup %s %s..%s', id, backup.startLsn, backup.endLsn);
    return backup;
  }

  async verifyBackup(backup: BaseBackup): Promise<{ ok: boolean; output: string }> {
    if (!this.binaries.has('pg_verifybackup')) return { ok: true, output: 'pg_verifybackup not available; not verified' };
    // -n: the backup carries its WAL (-X stream) but it is checked by the restore itself.
    const result = await runCommand(this.binaries.path('pg_verifybackup'), ['-n', backup.dir], {
      runAs: this.runAs,
      okCodes: [0, 1],
    });
    backup.verified = result.code === 0;
    return { ok: backup.verified, output: (result.stdout + result.stderr).trim() };
  }

  listBackups(): BaseBackup[] {
    return [...this.backups];
  }

  async restore(backup: BaseBackup, name: string, target: RecoveryTargetSpec | 'backup-only'): Promise<NativeInstance> {
    const instance = await NativeDeployment.newInstance(this.root, name, this.binaries, this.runAs, this.options);
    this.instances.push(instance);
    await runCommand('cp', ['-a', backup.dir, instance.dataDir]);
    await chmod(instance.dataDir, 0o700);
    await this.ownedDir(this.archiveOf(name));
    await instance.writeSettings(this.baseSettings(instance));
    if (target !== 'backup-only') {
      await instance.writeSettings(recoverySettings(this.archiveDir, target));
      await writeFile(path.join(instance.dataDir, 'recovery.signal'), '');
      if (this.runAs) chownSync(path.join(instance.dataDir, 'recovery.signal'), this.runAs.uid, this.runAs.gid);
    }
    try {
      await instance.start();
    } catch (error) {
      const tail = instance.logTail(12);
      if (/recovery ended before configured recovery target was reached|recovery target .* not reached/i.test(tail)) {
        throw new StepFailedError(
          'PITR_TARGET_NOT_REACHED',
          `point-in-time restore of ${backup.id} into "${name}" could not reach its recovery target: the archive ends before it. ` +
            `Choose an earlier target or check WAL archiving. Server log: ${tail}`,
          { cause: error },
        );
      }
      throw error;
    }
    return instance;
  }

  async dispose(): Promise<void> {
    for (const instance of [...this.instances].reverse()) {
      await instance.stopImmediately().catch((e: unknown) => debug('stop %s: %s', instance.name, String(e)));
    }
    if (existsSync(this.root)) await rm(this.root, { recursive: true, force: true });
  }

}

