import { randomBytes } from 'node:crypto';
import { PostgreSqlContainer, type StartedPostgreSqlContainer } from '@testcontainers/postgresql';
import createDebug from 'debug';
import { Wait } from 'testcontainers';
import type { Clock } from '../../engine/clock.js';
import { DrillError, EnvironmentError } from '../../engine/errors.js';
import type { SecretSink } from '../../report/redactor.js';
import { backupChecksumFailure, backupFacts, pitrTargetNotReached } from './native-deployment.js';
import { recoverySettings } from './recovery-settings.js';
import {
  archiveDirOf,
  CONTAINER_PATHS,
  formatSettings,
  pgCtlOptions,
  restoredSettings,
  testcontainersPostgresConfig,
  type TestcontainersPostgresConfig,
} from './testcontainers-config.js';
import { ContainerInstance, execAsPostgres } from './testcontainers-instance.js';
import type { BaseBackup, BaseBackupOptions, PgInstance, PostgresDeployment, RecoveryTargetSpec } from './types.js';

const debug = createDebug('drill:pg');

export interface TestcontainersDeploymentOptions {
  runId: string;
  clock: Clock;
  version?: number;
  /** Where the generated password is registered (the recorder's Redactor). */
  secrets?: SecretSink;
}

/**
 * PostgreSQL in one container (@testcontainers/postgresql), set up like the native provider: data
 * checksums, WAL archiving, base backups and restores. Backups, the archive and restored instances
 * all live inside the same container, so disposing of it removes everything.
 *
 * The container is not in the resource ledger, which knows directories and data directories only:
 * if this process dies before teardown, testcontainers' Ryuk reaper removes it.
 */
export class TestcontainersDeployment implements PostgresDeployment {
  readonly provider = 'testcontainers' as const;
  readonly drillTarget = true;
  // The archive is inside the container, where the harness cannot read it; restores read it there.
  readonly archiveDir = undefined;
  private readonly instances: ContainerInstance[];
  private readonly backups: BaseBackup[] = [];

  private constructor(
    private readonly container: StartedPostgreSqlContainer,
    private readonly config: TestcontainersPostgresConfig,
    private readonly clock: Clock,
    readonly primary: ContainerInstance,
  ) {
    this.instances = [primary];
  }

  /** Starts the container with a running primary. Call dispose() whatever happens next. */
  static async create(
    options: TestcontainersDeploymentOptions,
    register: (d: TestcontainersDeployment) => void,
  ): Promise<TestcontainersDeployment> {
    const config = testcontainersPostgresConfig({ runId: options.runId, version: options.version });
    // The mapped port may listen on every interface of the Docker host: no fixed password.
    const password = randomBytes(18).toString('base64url');
    options.secrets?.register(password, 'the password of the testcontainers PostgreSQL');
    debug('starting container %s', config.image);
    const container = await new PostgreSqlContainer(config.image)
      .withUsername('postgres')
      .withPassword(password)
      .withDatabase('postgres')
      .withEnvironment(config.env)
      .withCommand(config.command)
      // The module exposes the primary's port itself; adding it again would bind it twice.
      .withExposedPorts(...config.exposedPorts.filter((p) => p !== config.primaryPort))
      .withLabels(config.labels)
      // Not the module's default (health check and every exposed port listening): the restore
      // ports listen only once a restore runs.
      .withWaitStrategy(Wait.forHealthCheck())
      .start();
    const primary = new ContainerInstance({
      name: 'primary',
      container,
      pgdata: CONTAINER_PATHS.pgdata,
      port: config.primaryPort,
      logFile: `${CONTAINER_PATHS.home}/primary.log`,
      connection: { host: container.getHost(), port: container.getPort(), user: 'postgres', password, database: 'postgres' },
      startOptions: pgCtlOptions(config.settings),
    });
    const deployment = new TestcontainersDeployment(container, config, options.clock, primary);
    register(deployment);
    await execAsPostgres(container, ['mkdir', '-p', CONTAINER_PATHS.backups, CONTAINER_PATHS.restores]);
    return deployment;
  }

  async takeBaseBackup(from: PgInstance = this.primary, options: BaseBackupOptions = {}): Promise<BaseBackup> {
    const source = this.instances.find((i) => i === from);
    if (!source) throw new DrillError('UNKNOWN_INSTANCE', `"${from.name}" is not an instance of this testcontainers deployment`);
    const id = `backup-${this.backups.length + 1}`;
    const dir = `${CONTAINER_PATHS.backups}/${id}`;
    await execAsPostgres(this.container, [
      'pg_basebackup', '-h', CONTAINER_PATHS.sockets, '-p', String(source.port), '-U', 'postgres',
      '-D', dir, '-X', 'stream', '-c', 'fast', '--no-sync',
      ...(options.verifyChecksums === false ? ['--no-verify-checksums'] : []),
    ]).catch((error: unknown) => {
      throw backupChecksumFailure(error, from.name) ?? error;
    });
    const read = async (file: string) => (await execAsPostgres(this.container, ['cat', `${dir}/${file}`])).stdout;
    const backup: BaseBackup = {
      id,
      dir,
      source: from.name,
      ...backupFacts(await read('backup_label'), await read('backup_manifest')),
      tTaken: this.clock.now(),
      checksumsVerified: options.verifyChecksums !== false,
    };
    this.backups.push(backup);
    debug('base backup %s %s..%s (in the container)', id, backup.startLsn, backup.endLsn);
    return backup;
  }

  async verifyBackup(backup: BaseBackup): Promise<{ ok: boolean; output: string }> {
    // -n: the backup carries its WAL (-X stream) but it is checked by the restore itself.
    const result = await execAsPostgres(this.container, ['pg_verifybackup', '-n', backup.dir], [0, 1]);
    backup.verified = result.exitCode === 0;
    return { ok: backup.verified, output: result.output.trim() };
  }

  listBackups(): BaseBackup[] {
    return [...this.backups];
  }

  /** A second server in the same container, on one of the ports declared before it started. */
  async restore(backup: BaseBackup, name: string, target: RecoveryTargetSpec | 'backup-only'): Promise<ContainerInstance> {
    const { restorePorts } = this.config;
    const port = restorePorts.find((p) => !this.instances.some((i) => i.port === p));
    if (port === undefined) {
      throw new EnvironmentError(
        'RESTORE_PORTS_EXHAUSTED',
        `the testcontainers provider runs at most ${restorePorts.length} restored instances per drill; "${name}" is one too many`,
      );
    }
    const settings = restoredSettings(name, port);
    const home = `${CONTAINER_PATHS.restores}/${name}`;
    const pgdata = `${home}/data`;
    await execAsPostgres(this.container, ['sh', '-c', 'mkdir -p "$1" && cp -a "$2" "$3" && chmod 700 "$3"', 'drill-copy', home, backup.dir, pgdata]);
    await this.appendSettings(pgdata, settings, name);
    if (target !== 'backup-only') {
      await this.appendSettings(pgdata, recoverySettings(archiveDirOf(this.primary.name), target), `${name} recovery`);
      await execAsPostgres(this.container, ['touch', `${pgdata}/recovery.signal`]);
    }
    const instance = new ContainerInstance({
      name,
      container: this.container,
      pgdata,
      port,
      logFile: `${home}/server.log`,
      connection: { ...this.primary.connection, port: this.container.getMappedPort(port) },
    });
    this.instances.push(instance);
    try {
      await instance.start();
    } catch (error) {
      throw pitrTargetNotReached(await instance.logTail(12), backup.id, name, error) ?? error;
    }
    return instance;
  }

  readonly replicas: PgInstance[] = [];

  async createReplica(name: string): Promise<PgInstance> {
    throw new EnvironmentError(
      'REPLICAS_UNSUPPORTED',
      `cannot create replica "${name}": the testcontainers provider runs no streaming replicas (yet); ` +
        'use provider: native for replica drills, or set targets.postgres.replicas: 0',
    );
  }

  async dispose(): Promise<void> {
    // Removing the container removes every server, backup and archive in it; no need to stop them first.
    await this.container.stop({ remove: true }).catch((e: unknown) => debug('stop container: %s', String(e)));
  }

  private async appendSettings(pgdata: string, settings: Record<string, string | number>, comment: string): Promise<void> {
    await execAsPostgres(this.container, [
      'sh', '-c', 'printf "%s" "$1" >> "$2/postgresql.conf"', 'drill-settings', formatSettings(settings, comment), pgdata,
    ]);
  }
}
