import { randomBytes, randomUUID } from 'node:crypto';
import { PostgreSqlContainer, type StartedPostgreSqlContainer } from '@testcontainers/postgresql';
import createDebug from 'debug';
import { Wait } from 'testcontainers';
import type { Clock } from '../../engine/clock.js';
import { DrillError, EnvironmentError } from '../../engine/errors.js';
import type { ResourceLedger } from '../../engine/resource-ledger.js';
import type { SecretSink } from '../../report/redactor.js';
import { dockerHost } from '../docker/docker-host.js';
import { awaitRecoveryEnd } from './await-recovery-end.js';
import { execAsPostgres } from './container-exec.js';
import { backupChecksumFailure, backupFacts, pitrTargetNotReached } from './native-deployment.js';
import { recoverySettings } from './recovery-settings.js';
import {
  archiveDirOf,
  CONTAINER_PATHS,
  instanceSettings,
  testcontainersPostgresConfig,
  type TestcontainersPostgresConfig,
} from './testcontainers-config.js';
import { ContainerInstance } from './testcontainers-instance.js';
import {
  awaitReplicaState,
  replicaSettings,
  requireReplicaName,
  setSynchronousStandbys,
  slotNameOf,
} from './streaming-replica.js';
import type { BaseBackup, BaseBackupOptions, PgInstance, PostgresDeployment, RecoveryTargetSpec, ReplicaOptions } from './types.js';

const debug = createDebug('drill:pg');

export interface TestcontainersDeploymentOptions {
  runId: string;
  clock: Clock;
  ledger: ResourceLedger;
  version?: number;
  /** Where the generated password is registered (the recorder's Redactor). */
  secrets?: SecretSink;
  /** targets.postgres.image (or DRILL_POSTGRES_IMAGE); default the official postgres:<version>-alpine. */
  image?: string;
}

/**
 * PostgreSQL in one container (@testcontainers/postgresql), set up like the native provider: data
 * checksums, WAL archiving, base backups, restores and streaming replicas. Backups, the archive,
 * replicas and restored instances all live inside the same container, so removing it removes
 * everything. The container is in the resource ledger (by its labels) before it starts, so a
 * drill killed at any point has it removed by the reaper.
 */
export class TestcontainersDeployment implements PostgresDeployment {
  readonly provider = 'testcontainers' as const;
  readonly drillTarget = true;
  // The archive is inside the container, where the harness cannot read it; restores read it there.
  readonly archiveDir = undefined;
  private readonly instances: ContainerInstance[];
  private readonly backups: BaseBackup[] = [];
  private readonly replicaSet: ContainerInstance[] = [];
  private readonly synchronous: string[] = [];

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
    const config = testcontainersPostgresConfig({
      runId: options.runId,
      deploymentId: randomUUID(),
      version: options.version,
      image: options.image,
    });
    options.ledger.record({ kind: 'docker-container', engine: dockerHost(), labels: { 'drill.deployment': config.labels['drill.deployment']! } });
    // The published port may listen on every interface of the Docker host: no fixed password.
    const password = randomBytes(18).toString('base64url');
    options.secrets?.register(password, 'the password of the testcontainers PostgreSQL');
    debug('starting container %s', config.image);
    let container: StartedPostgreSqlContainer;
    try {
      container = await new PostgreSqlContainer(config.image)
        .withUsername('postgres')
        .withPassword(password)
        .withDatabase('postgres')
        .withEnvironment(config.env)
        .withCommand(config.command)
        // The module exposes the primary's port itself; adding it again would bind it twice.
        .withExposedPorts(...config.exposedPorts.filter((p) => p !== config.primaryPort))
        .withLabels(config.labels)
        .withHealthCheck({ test: config.healthCheck, interval: 250, timeout: 1000, retries: 1000 })
        // Not the module's default (health check and every exposed port listening): the other
        // ports listen only once a replica or restore runs there.
        .withWaitStrategy(Wait.forHealthCheck())
        .start();
    } catch (error) {
      throw containerStartFailure(config.image, error);
    }
    const primary = new ContainerInstance({
      name: 'primary',
      container,
      containerName: container.getId().slice(0, 12),
      pgdata: CONTAINER_PATHS.pgdata,
      port: config.primaryPort,
      logFile: `${CONTAINER_PATHS.home}/primary.log`,
      connection: { host: container.getHost(), port: container.getPort(), user: 'postgres', password, database: 'postgres' },
    });
    const deployment = new TestcontainersDeployment(container, config, options.clock, primary);
    register(deployment);
    await execAsPostgres(container, ['mkdir', '-p', CONTAINER_PATHS.backups, CONTAINER_PATHS.instances]);
    // The first start took them on the command line; from now on restarts and copies read them here.
    await primary.dataDirectory.appendSettings(config.settings, 'primary');
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
    ]).catch(async (error: unknown) => {
      // A refused backup (e.g. a page failing its checksum) can leave a partial copy behind.
      await execAsPostgres(this.container, ['rm', '-rf', dir], [0, 1]).catch(() => undefined);
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

  /** A further server in the same container, from a copy of the backup, on one of the ports declared before it started. */
  async restore(backup: BaseBackup, name: string, target: RecoveryTargetSpec | 'backup-only'): Promise<ContainerInstance> {
    const instance = this.newInstance(name, 'restored instance');
    await execAsPostgres(this.container, [
      'sh', '-c', 'mkdir -p "$1" && cp -a "$2" "$3" && chmod 700 "$3"', 'drill-copy', this.homeOf(name), backup.dir, instance.dataDirectory.path,
    ]);
    await instance.dataDirectory.appendSettings(instanceSettings(this.config.settings, name, instance.port), name);
    if (target !== 'backup-only') {
      await instance.dataDirectory.appendSettings(recoverySettings(archiveDirOf(this.primary.name), target), `${name} recovery`);
      await instance.dataDirectory.touch('recovery.signal');
    }
    this.instances.push(instance);
    try {
      await instance.start();
      if (target !== 'backup-only') await awaitRecoveryEnd(instance);
    } catch (error) {
      throw pitrTargetNotReached(await instance.logTail(12), backup.id, name, error) ?? error;
    }
    return instance;
  }

  get replicas(): PgInstance[] {
    return [...this.replicaSet];
  }

  /**
   * A streaming replica as a further server in the container: pg_basebackup of the primary over
   * its socket (with a replication slot), standby settings, and the wait until the primary lists
   * it as streaming (and synchronous, when asked).
   */
  async createReplica(name: string, options: ReplicaOptions = {}): Promise<PgInstance> {
    requireReplicaName(name, this.instances.map((i) => i.name));
    const instance = this.newInstance(name, 'replica');
    const pgdata = instance.dataDirectory.path;
    await execAsPostgres(this.container, ['mkdir', '-p', this.homeOf(name)]);
    await execAsPostgres(this.container, [
      'pg_basebackup', '-h', CONTAINER_PATHS.sockets, '-p', String(this.primary.port), '-U', 'postgres',
      '-D', pgdata, '-X', 'stream', '-c', 'fast', '--no-sync', '-C', '-S', slotNameOf(name),
    ]);
    // Copied with the primary's postgresql.auto.conf: they are the primary's (streaming-replica.ts).
    await execAsPostgres(this.container, ['sed', '-i', '/^[[:space:]]*synchronous_standby_names[[:space:]]*=/d', `${pgdata}/postgresql.auto.conf`]);
    await instance.dataDirectory.appendSettings(
      {
        ...instanceSettings(this.config.settings, name, instance.port),
        ...replicaSettings({ host: CONTAINER_PATHS.sockets, port: this.primary.port, user: 'postgres' }, name),
      },
      name,
    );
    await instance.dataDirectory.touch('standby.signal');
    this.instances.push(instance);
    await instance.start();
    await awaitReplicaState(this.primary, instance, false);
    if (options.synchronous) {
      this.synchronous.push(name);
      await setSynchronousStandbys(this.primary, this.synchronous);
      await awaitReplicaState(this.primary, instance, true);
    }
    this.replicaSet.push(instance);
    debug('replica %s streaming from %s in the container (%s)', name, this.primary.name, options.synchronous ? 'synchronous' : 'asynchronous');
    return instance;
  }

  async dispose(): Promise<void> {
    // Removing the container removes every server, backup and archive in it; no need to stop them first.
    await this.container.stop({ remove: true, removeVolumes: true }).catch((e: unknown) => debug('stop container: %s', String(e)));
  }

  private homeOf(name: string): string {
    return `${CONTAINER_PATHS.instances}/${name}`;
  }

  /** A further server's instance (not yet created on disk) on the next free declared port. */
  private newInstance(name: string, what: string): ContainerInstance {
    if (this.instances.some((i) => i.name === name)) throw new DrillError('INSTANCE_NAME_TAKEN', `there is already an instance "${name}" in the container`);
    const { instancePorts } = this.config;
    const port = instancePorts.find((p) => !this.instances.some((i) => i.port === p));
    if (port === undefined) {
      throw new EnvironmentError(
        'CONTAINER_PORTS_EXHAUSTED',
        `the testcontainers provider runs at most ${instancePorts.length} replicas and restored instances per drill ` +
          `(Docker publishes ports only when a container starts); ${what} "${name}" is one too many. ` +
          'Use fewer replicas or restores, or provider: native',
      );
    }
    return new ContainerInstance({
      name,
      container: this.container,
      containerName: this.container.getId().slice(0, 12),
      pgdata: `${this.homeOf(name)}/data`,
      port,
      logFile: `${this.homeOf(name)}/server.log`,
      connection: { ...this.primary.connection, port: this.container.getMappedPort(port) },
    });
  }
}

/** Why the container did not start, with what to do: most often an image the engine cannot pull. */
function containerStartFailure(image: string, error: unknown): EnvironmentError {
  const message = error instanceof Error ? error.message : String(error);
  return new EnvironmentError(
    'CONTAINER_START_FAILED',
    `the PostgreSQL container (image ${image}) did not start: ${message.slice(-1500)}. ` +
      'If the engine cannot pull that image (no registry), set targets.postgres.image or DRILL_POSTGRES_IMAGE to an image it has; ' +
      'tools/local-docker.sh builds drill-postgres:15-bookworm without a registry.',
  );
}
