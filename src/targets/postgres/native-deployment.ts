import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, readFileSync } from 'node:fs';
import { appendFile, chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import createDebug from 'debug';
import type { Clock } from '../../engine/clock.js';
import { EnvironmentError, StepFailedError } from '../../engine/errors.js';
import { createRecordedTempDir } from '../../engine/recorded-temp-dir.js';
import type { ResourceLedger } from '../../engine/resource-ledger.js';
import type { SecretSink } from '../../report/redactor.js';
import { runCommand, type RunAs } from '../process/run-command.js';
import { TmpfsVolume } from '../process/tmpfs-volume.js';
import { requireSocketPathFits } from '../process/unix-socket-path.js';
import { requireTraversable } from '../process/traversable.js';
import { DrillfsMount } from '../process/drillfs-mount.js';
import { awaitRecoveryEnd } from './await-recovery-end.js';
import { findPostgresBinaries, type PostgresBinaries } from './binaries.js';
import { freeLoopbackPort } from './free-port.js';
import { initDataDirectory, initdb } from './data-dir-template.js';
import { NativeInstance } from './native-instance.js';
import { NativeReplicas } from './native-replica.js';
import { PgPassFile } from './pgpass-file.js';
import { postgresRunAs } from './postgres-user.js';
import { recoverySettings } from './recovery-settings.js';
import type { BaseBackup, BaseBackupOptions, ConnectionInfo, PgInstance, PostgresDeployment, RecoveryTargetSpec, ReplicaOptions } from './types.js';

const debug = createDebug('drill:pg');

export interface NativeDeploymentOptions {
  runId: string;
  clock: Clock;
  ledger: ResourceLedger;
  /** Where the generated password is registered, so that no artifact shows it (the recorder's Redactor). */
  secrets?: SecretSink;
  /**
   * In a drill network with real nodes, the system under drill runs in pods: instances also listen
   * on the network's host address, and accept (password) connections from `clients` (the drill range).
   */
  hostAddress?: { address: string; clients: string };
  /**
   * Where an instance listens, by its name (`primary`, `replica-1`): a loopback address other than
   * 127.0.0.1 (a region's range, src/targets/regions/database-placement.ts); undefined: 127.0.0.1.
   * A placed instance archives its WAL also while it is a standby (`archive_mode = always`): each
   * region keeps its own archive.
   */
  placement?: (instance: string) => string | undefined;
  /**
   * Put the primary's pg_wal on a tmpfs of this size (targets.postgres.walVolume), for disk faults.
   * Segments of 1 MiB and max_wal_size half the volume keep a volume of a few MiB proportioned like
   * a production WAL disk with 16 MiB segments.
   */
  walVolume?: { sizeBytes: number };
  /**
   * Mount a tmpfs of this size at the primary's data directory (targets.postgres.dataVolume), for
   * disk faults on the data files. pg_wal then lives elsewhere (the WAL volume, or a plain directory
   * of the temp root), as on a server with separate data and WAL disks.
   */
  dataVolume?: { sizeBytes: number };
  /**
   * Put the primary's data directory on drillfs (targets.postgres.dataPassthrough), the FUSE
   * passthrough at `binary`, for disk I/O faults; pg_wal is kept off it, as with dataVolume.
   */
  dataPassthrough?: { binary: string };
}

/** The method of every pg_hba.conf rule of a drill instance: no trust, over TCP or the socket. */
export const AUTH_METHOD = 'scram-sha-256';

/** What pg_basebackup wrote about a backup, from its backup_label and backup_manifest texts. */
export function backupFacts(label: string, manifest: string): Pick<BaseBackup, 'startLsn' | 'endLsn' | 'takenAtWall'> {
  const parsed = JSON.parse(manifest) as { 'WAL-Ranges': Array<{ 'Start-LSN': string; 'End-LSN': string }> };
  const range = parsed['WAL-Ranges'][0]!;
  return {
    startLsn: range['Start-LSN'],
    endLsn: range['End-LSN'],
    takenAtWall: /START TIME: (.*)/.exec(label)?.[1] ?? new Date().toISOString(),
  };
}

/** The typed error for a restore whose server log says recovery stopped short of its target. */
export function pitrTargetNotReached(logTail: string, backupId: string, name: string, cause: unknown): StepFailedError | undefined {
  if (!/recovery ended before configured recovery target was reached|recovery target .* not reached/i.test(logTail)) return undefined;
  return new StepFailedError(
    'PITR_TARGET_NOT_REACHED',
    `point-in-time restore of ${backupId} into "${name}" could not reach its recovery target: the archive ends before it. ` +
      `Choose an earlier target or check WAL archiving. Server log: ${logTail}`,
    { cause },
  );
}

/**
 * The typed error for a base backup that pg_basebackup refused because pages failed their checksum
 * (the server verifies every page it sends unless told --no-verify-checksums).
 */
export function backupChecksumFailure(error: unknown, source: string): StepFailedError | undefined {
  const message = error instanceof Error ? error.message : String(error);
  if (!/checksum (verification failure|error occurred|verification failed)/i.test(message)) return undefined;
  return new StepFailedError(
    'BACKUP_CHECKSUM_FAILURE',
    `pg_basebackup of "${source}" found pages whose checksum fails, so the backup would carry the corruption; ` +
      `repair or restore the source first, or back up an earlier good state. pg_basebackup said: ${message.slice(-1500)}`,
    { cause: error },
  );
}

/**
 * A temp directory of local PostgreSQL instances and base backups, removed by dispose(). The native
 * deployment is built on it, and so is the external provider, which restores onto this machine.
 *
 * Access: the directory is mode 0700 (createRecordedTempDir), owned by the user PostgreSQL runs as, so only that
 * user and root reach the instances' Unix sockets. Every instance requires `password` (SCRAM) over
 * TCP and over its socket; the password is generated per run, registered with the Redactor, and
 * kept for PostgreSQL's own programs in a 0600 pgpass file here (`passfile`).
 */
export class NativeWorkspace {
  readonly instances: NativeInstance[] = [];
  private readonly backups: BaseBackup[] = [];
  private readonly volumes: TmpfsVolume[] = [];
  private readonly passthroughs: DrillfsMount[] = [];
  private readonly controlDirs: string[] = [];

  private constructor(
    readonly root: string,
    readonly binaries: PostgresBinaries,
    readonly runAs: RunAs | undefined,
    private readonly options: NativeDeploymentOptions,
    /** The password of the `postgres` role of every instance created here. */
    readonly password: string,
    readonly passfile: PgPassFile,
  ) {}

  /** Finds the binaries and creates the temp root (in the ledger). Call dispose() whatever happens. */
  static create(options: NativeDeploymentOptions): NativeWorkspace {
    const binaries = findPostgresBinaries();
    const runAs = postgresRunAs();
    // The servers run as that user under TMPDIR: a TMPDIR it cannot enter fails here, named, not in initdb.
    if (runAs) requireTraversable(os.tmpdir(), runAs, `PostgreSQL's user (${process.env.DRILL_PG_USER ?? 'postgres'})`, 'set TMPDIR to a directory every user can enter, such as /tmp (or chmod o+x the directory named)');
    const root = createRecordedTempDir(options.ledger, `drill-${options.runId.slice(-24)}-`);
    if (runAs) chownSync(root, runAs.uid, runAs.gid);
    // Registered before it is used anywhere, so that nothing written from now on can show it.
    const password = randomBytes(24).toString('base64url');
    options.secrets?.register(password, 'the password of the drill\'s PostgreSQL instances');
    return new NativeWorkspace(root, binaries, runAs, options, password, new PgPassFile(path.join(root, 'pgpass'), runAs));
  }

  /** An instance (not yet initialised) with its own port, socket directory and log, recorded in the ledger. */
  async newInstance(name: string): Promise<NativeInstance> {
    const home = path.join(this.root, name);
    await mkdir(path.join(home, 'sock'), { recursive: true, mode: 0o700 });
    if (this.runAs) {
      chownSync(home, this.runAs.uid, this.runAs.gid);
      chownSync(path.join(home, 'sock'), this.runAs.uid, this.runAs.gid);
    }
    const dataDir = path.join(home, 'data');
    const { runAs, binaries } = this;
    const host = this.options.placement?.(name) ?? '127.0.0.1';
    // With the longest port, so that a TMPDIR near the limit fails every time, not by the port drawn.
    requireSocketPathFits(path.join(home, 'sock', '.s.PGSQL.65535'), `PostgreSQL's socket for ${name}`);
    const port = await freeLoopbackPort(host);
    this.options.ledger.record({ kind: 'pg-data-dir', path: dataDir, bindir: binaries.bindir, uid: runAs?.uid, gid: runAs?.gid });
    const instance = new NativeInstance({
      name,
      dataDir,
      socketDir: path.join(home, 'sock'),
      logFile: path.join(home, 'server.log'),
      host,
      port,
      password: this.password,
      binaries,
      runAs,
    });
    this.passfile.add({ host: instance.connection.host, port: instance.connection.port, user: '*', password: this.password });
    this.instances.push(instance);
    return instance;
  }

  /**
   * A size-limited tmpfs (in the ledger before it is mounted), owned by the PostgreSQL user: under
   * the temp root, or at `at` (a path inside it, such as an instance's data directory).
   */
  async newVolume(name: string, sizeBytes: number, at?: string): Promise<TmpfsVolume> {
    const volume = await TmpfsVolume.create({
      path: at ?? path.join(this.root, `volume-${name}`),
      sizeBytes,
      source: `drill-${this.options.runId.slice(-24)}-${name}`,
      ledger: this.options.ledger,
      runAs: this.runAs,
    });
    this.volumes.push(volume);
    return volume;
  }

  /** drillfs of a directory of the temp root at `at` (in the ledger before it is mounted), owned by the PostgreSQL user. */
  async newPassthrough(name: string, at: string, binary: string): Promise<DrillfsMount> {
    // The control socket and the daemon's log are root's: not in the temp root, which belongs to
    // the PostgreSQL user, who could otherwise replace the socket or plant a symlink as the log.
    const control = createRecordedTempDir(this.options.ledger, 'drill-drillfs-');
    this.controlDirs.push(control);
    const mount = await DrillfsMount.create({
      binary,
      backing: path.join(this.root, `backing-${name}`),
      path: at,
      socket: path.join(control, `${name}.sock`),
      log: path.join(control, `${name}.log`),
      source: `drill-${this.options.runId.slice(-24)}-${name}`,
      ledger: this.options.ledger,
      runAs: this.runAs,
    });
    this.passthroughs.push(mount);
    return mount;
  }

  get dataPassthrough(): NativeDeploymentOptions['dataPassthrough'] {
    return this.options.dataPassthrough;
  }

  get walVolumeSize(): number | undefined {
    return this.options.walVolume?.sizeBytes;
  }

  get dataVolumeSize(): number | undefined {
    return this.options.dataVolume?.sizeBytes;
  }

  get hostAddress(): NativeDeploymentOptions['hostAddress'] {
    return this.options.hostAddress;
  }

  archiveOf(instanceName: string): string {
    return path.join(this.root, 'archive', instanceName);
  }

  async ownedDir(dir: string): Promise<void> {
    await mkdir(dir, { recursive: true });
    if (this.runAs) chownSync(dir, this.runAs.uid, this.runAs.gid);
  }

  baseSettings(instance: NativeInstance): Record<string, string | number> {
    const archive = this.archiveOf(instance.name);
    const host = instance.connection.host;
    return {
      listen_addresses: this.options.hostAddress ? `${host},${this.options.hostAddress.address}` : host,
      port: instance.connection.port,
      unix_socket_directories: path.join(path.dirname(instance.dataDir), 'sock'),
      wal_level: 'replica',
      archive_mode: host === '127.0.0.1' ? 'on' : 'always',
      archive_command: `test ! -f '${archive}/%f' && cp '%p' '${archive}/%f'`,
      max_wal_senders: 10,
      shared_buffers: '32MB',
      max_connections: 50,
      log_line_prefix: '%m [%p] ',
      // Who logged in and out, from where, for how long: what a breach investigation reads first
      // (preserve-forensics copies this log).
      log_connections: 'on',
      log_disconnections: 'on',
    };
  }

  /**
   * The environment of a libpq program that connects to `connection`: its password goes into the
   * pgpass file, never onto the command line or into the environment.
   */
  libpqEnv(connection: ConnectionInfo): Record<string, string> {
    if (connection.password !== undefined) {
      this.passfile.add({ host: connection.host, port: connection.port, user: connection.user, password: connection.password });
    }
    return { PGCONNECT_TIMEOUT: '15', ...this.passfile.env };
  }

  /** pg_basebackup of the server at `connection`. */
  async takeBaseBackup(source: string, connection: ConnectionInfo, options: BaseBackupOptions = {}): Promise<BaseBackup> {
    const id = `backup-${this.backups.length + 1}`;
    const dir = path.join(this.root, 'backups', id);
    const verifyChecksums = options.verifyChecksums ?? true;
    await this.ownedDir(path.dirname(dir));
    await runCommand(
      this.binaries.path('pg_basebackup'),
      [
        '-h', connection.host, '-p', String(connection.port), '-U', connection.user, '-D', dir, '-X', 'stream', '-c', 'fast', '--no-sync',
        ...(verifyChecksums ? [] : ['--no-verify-checksums']),
      ],
      { runAs: this.runAs, env: this.libpqEnv(connection) },
    ).catch(async (error: unknown) => {
      // A refused backup (e.g. a page failing its checksum) can leave a partial copy behind.
      await rm(dir, { recursive: true, force: true });
      throw backupChecksumFailure(error, source) ?? error;
    });
    const backup: BaseBackup = {
      id,
      dir,
      source,
      ...backupFacts(readFileSync(path.join(dir, 'backup_label'), 'utf8'), readFileSync(path.join(dir, 'backup_manifest'), 'utf8')),
      tTaken: this.options.clock.now(),
      checksumsVerified: verifyChecksums,
    };
    this.backups.push(backup);
    debug('base backup %s %s..%s', id, backup.startLsn, backup.endLsn);
    return backup;
  }

  async verifyBackup(backup: BaseBackup): Promise<{ ok: boolean; output: string }> {
    if (!this.binaries.has('pg_verifybackup')) {
      throw new EnvironmentError('VERIFY_UNAVAILABLE', `pg_verifybackup is not in ${this.binaries.bindir}; install it (PostgreSQL 13+) or set verify: false on the step`);
    }
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

  /** A new instance whose data directory is a copy of the backup, with this workspace's settings; not started. */
  async copyBackup(backup: BaseBackup, name: string): Promise<NativeInstance> {
    const instance = await this.newInstance(name);
    await runCommand('cp', ['-a', backup.dir, instance.dataDir]);
    await chmod(instance.dataDir, 0o700);
    await this.ownedDir(this.archiveOf(name));
    await instance.writeSettings(this.baseSettings(instance));
    return instance;
  }

  /** Starts a copied backup, first asking for archive recovery up to a target when one is given. */
  async startRestored(
    instance: NativeInstance,
    backup: BaseBackup,
    recovery?: { archiveDir: string; target: RecoveryTargetSpec },
  ): Promise<void> {
    if (recovery) {
      await instance.writeSettings(recoverySettings(recovery.archiveDir, recovery.target));
      await writeFile(path.join(instance.dataDir, 'recovery.signal'), '');
      if (this.runAs) chownSync(path.join(instance.dataDir, 'recovery.signal'), this.runAs.uid, this.runAs.gid);
    }
    try {
      await instance.start();
      if (recovery) await awaitRecoveryEnd(instance);
    } catch (error) {
      throw pitrTargetNotReached(instance.logTail(12), backup.id, instance.name, error) ?? error;
    }
  }

  async dispose(): Promise<void> {
    // All at once: an immediate stop needs no order (nothing is flushed or archived), and each
    // waits for its server to go.
    await Promise.all(this.instances.map((instance) => instance.stopImmediately().catch((e: unknown) => debug('stop %s: %s', instance.name, String(e)))));
    // Before the recursive delete, which would otherwise go into the mount.
    for (const volume of this.volumes) await volume.unmount();
    for (const mount of this.passthroughs) await mount.unmount();
    for (const dir of this.controlDirs) await rm(dir, { recursive: true, force: true });
    if (existsSync(this.root)) await rm(this.root, { recursive: true, force: true });
  }
}

/**
 * PostgreSQL from the machine's own binaries: a primary with data checksums and WAL archiving, base
 * backups and restores into new instances, all under one temp directory that dispose() removes.
 */
export class NativeDeployment implements PostgresDeployment {
  readonly provider = 'native' as const;
  readonly drillTarget = true;
  private readonly replicaSet = new NativeReplicas();

  private constructor(
    private readonly workspace: NativeWorkspace,
    readonly primary: NativeInstance,
  ) {}

  get binaries(): PostgresBinaries {
    return this.workspace.binaries;
  }

  get archiveDir(): string {
    return this.workspace.archiveOf(this.primary.name);
  }

  /** Creates the temp root and an initialised, running primary. Call dispose() whatever happens. */
  static async create(options: NativeDeploymentOptions, register: (d: NativeDeployment) => void): Promise<NativeDeployment> {
    const workspace = NativeWorkspace.create(options);
    // Refused here (a socket path too long), the workspace has no owner yet to remove it.
    const primary = await workspace.newInstance('primary').catch(async (e: unknown) => {
      await workspace.dispose().catch((disposeError: unknown) => debug('workspace of a refused primary: %s', String(disposeError)));
      throw e;
    });
    const deployment = new NativeDeployment(workspace, primary);
    register(deployment);
    await deployment.initPrimary();
    return deployment;
  }

  private async initPrimary(): Promise<void> {
    const { workspace, primary } = this;
    await workspace.ownedDir(path.join(workspace.root, 'archive'));
    await workspace.ownedDir(this.archiveDir);
    const walSize = workspace.walVolumeSize;
    const walArgs: string[] = [];
    if (walSize !== undefined) {
      const volume = await workspace.newVolume('wal', walSize);
      primary.walVolume = volume;
      walArgs.push(`--waldir=${path.join(volume.path, 'pg_wal')}`, '--wal-segsize=1');
    }
    const dataSize = workspace.dataVolumeSize;
    if (dataSize !== undefined) {
      // Mounted at the data directory itself (empty, so initdb takes it): everything of the cluster
      // but its WAL is on the volume. WAL off it: a full data disk then fails writes with an ERROR
      // ("could not extend file"), as on a server with a WAL disk of its own, not with a WAL PANIC.
      primary.dataVolume = await workspace.newVolume('data', dataSize, primary.dataDir);
      if (walSize === undefined) walArgs.push(`--waldir=${path.join(path.dirname(primary.dataDir), 'pg_wal')}`);
    }
    const passthrough = workspace.dataPassthrough;
    if (passthrough) {
      // The data directory is the mount (its files in backing-data): every read and write of a
      // relation file goes through drillfs, which can fail or delay it. WAL off it, as above.
      primary.ioFaults = await workspace.newPassthrough('data', primary.dataDir, passthrough.binary);
      if (walSize === undefined) walArgs.push(`--waldir=${path.join(path.dirname(primary.dataDir), 'pg_wal')}`);
    }
    const initdbArgs = [
      '--data-checksums',
      // pg_hba.conf: password (SCRAM) for local and host rules, replication included; no trust.
      `--auth-local=${AUTH_METHOD}`, `--auth-host=${AUTH_METHOD}`,
      '--locale=C', '-E', 'UTF8', '--no-sync',
    ];
    if (walArgs.length === 0) {
      // The common case: a copy of a cached initdb output with this run's password (data-dir-template.ts).
      await initDataDirectory({ binaries: workspace.binaries, runAs: workspace.runAs, dataDir: primary.dataDir, initdbArgs, password: workspace.password, scratchDir: workspace.root });
    } else {
      // WAL or data on volumes of their own: initdb lays them out (a mounted data directory, --waldir).
      await initdb({ binaries: workspace.binaries, runAs: workspace.runAs, dataDir: primary.dataDir, initdbArgs, scratchDir: workspace.root }, workspace.password, walArgs);
    }
    const pods = workspace.hostAddress;
    if (pods) {
      // Copies (replicas, restores) inherit it with the data directory.
      await appendFile(path.join(primary.dataDir, 'pg_hba.conf'), `\n# pods of the drill network\nhost all all ${pods.clients} ${AUTH_METHOD}\n`);
    }
    await primary.writeSettings(workspace.baseSettings(primary));
    if (walSize !== undefined) {
      // A checkpoint when half the volume is WAL, as an operator sizes max_wal_size to the disk.
      await primary.writeSettings({ min_wal_size: '2MB', max_wal_size: `${Math.max(4, Math.floor(walSize / 2 / 1024 / 1024))}MB` });
    }
    await primary.start();
  }

  takeBaseBackup(from: PgInstance = this.primary, options?: BaseBackupOptions): Promise<BaseBackup> {
    return this.workspace.takeBaseBackup(from.name, from.connection, options);
  }

  verifyBackup(backup: BaseBackup): Promise<{ ok: boolean; output: string }> {
    return this.workspace.verifyBackup(backup);
  }

  listBackups(): BaseBackup[] {
    return this.workspace.listBackups();
  }

  async restore(backup: BaseBackup, name: string, target: RecoveryTargetSpec | 'backup-only'): Promise<NativeInstance> {
    const instance = await this.workspace.copyBackup(backup, name);
    await this.workspace.startRestored(instance, backup, target === 'backup-only' ? undefined : { archiveDir: this.archiveDir, target });
    return instance;
  }

  /** Streaming replicas (src/targets/postgres/native-replica.ts); dispose() removes them with the rest. */
  get replicas(): NativeInstance[] {
    return this.replicaSet.instances;
  }

  createReplica(name: string, options?: ReplicaOptions): Promise<NativeInstance> {
    return this.replicaSet.create(this.workspace, this.primary, name, options);
  }

  async rebuildAsReplica(instance: PgInstance, upstream: PgInstance): Promise<{ slot: string; backupStartLsn?: string }> {
    const native = this.workspace.instances.find((i) => i === instance);
    if (!native) throw new EnvironmentError('REBUILD_NOT_NATIVE', `${instance.name} is not an instance of this native deployment; only its own instances can be rebuilt`);
    return this.replicaSet.rebuild(this.workspace, native, upstream);
  }

  dispose(): Promise<void> {
    return this.workspace.dispose();
  }
}
