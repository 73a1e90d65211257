import { readFileSync } from 'node:fs';
import path from 'node:path';
import createDebug from 'debug';
import { DrillError, EnvironmentError } from '../../engine/errors.js';
import { withClient } from './with-client.js';
import { prepareExternalCopy, setCopyPassword } from './external-copy.js';
import { requireDrillTargetMarker } from './external-marker.js';
import { ExternalInstance } from './external-instance.js';
import { ExternalRestoredInstance } from './external-restored-instance.js';
import { describeConnection, parseExternalUrl, scrubPassword } from './external-url.js';
import { NativeWorkspace, type NativeDeploymentOptions } from './native-deployment.js';
import type { BaseBackup, BaseBackupOptions, ConnectionInfo, PgInstance, PostgresDeployment, RecoveryTargetSpec } from './types.js';

const debug = createDebug('drill:pg');

export interface ExternalDeploymentOptions extends NativeDeploymentOptions {
  url: string | undefined;
  drillTarget: boolean;
}

/**
 * An existing server behind a connection URL. The harness reaches it over SQL and the replication
 * protocol only: base backups come to this machine (pg_basebackup) and restores run here, as local
 * native instances in a workspace created on first use.
 */
export class ExternalDeployment implements PostgresDeployment {
  readonly provider = 'external' as const;
  readonly primary: ExternalInstance;
  // The server archives WAL wherever its own archive_command says; nothing the harness can read.
  readonly archiveDir = undefined;
  private workspace?: NativeWorkspace;
  private marker?: Promise<void>;
  private markerConfirmed = false;

  private constructor(
    private readonly flaggedAsTarget: boolean,
    connection: ConnectionInfo,
    private readonly options: ExternalDeploymentOptions,
  ) {
    this.primary = new ExternalInstance(connection, flaggedAsTarget);
  }

  /** Only once the scenario says so (drillTarget) and the server agrees (its marker, confirmed). */
  get drillTarget(): boolean {
    return this.flaggedAsTarget && this.markerConfirmed;
  }

  /**
   * Reads the server's drill-target marker (external-marker.ts); NOT_A_DRILL_TARGET when it is
   * missing. Provisioning calls it before anything is written; the base backup, which copies the
   * whole server, calls it again (once checked, the answer is kept for the drill).
   */
  confirmDrillTarget(): Promise<void> {
    this.marker ??= requireDrillTargetMarker(this.primary.connection).then(
      () => void (this.markerConfirmed = true),
      (error: unknown) => {
        this.marker = undefined;
        throw error;
      },
    );
    return this.marker;
  }

  /** Parses the URL (an InputError when it is wrong); connects to nothing yet. */
  static async create(options: ExternalDeploymentOptions, register: (d: ExternalDeployment) => void): Promise<ExternalDeployment> {
    const connection = parseExternalUrl(options.url);
    options.secrets?.register(connection.password, 'the external PostgreSQL password');
    const deployment = new ExternalDeployment(options.drillTarget, connection, options);
    register(deployment);
    debug('external PostgreSQL at %s (drillTarget in the scenario: %s)', describeConnection(deployment.primary.connection), options.drillTarget);
    return deployment;
  }

  private local(): NativeWorkspace {
    this.workspace ??= NativeWorkspace.create(this.options);
    return this.workspace;
  }

  async takeBaseBackup(from: PgInstance = this.primary, options?: BaseBackupOptions): Promise<BaseBackup> {
    // A base backup copies the whole server: never of one that has not agreed to be a drill target.
    await this.confirmDrillTarget();
    return this.scrubbed(async () => {
      if (from === this.primary) await this.refuseTablespaces();
      return this.local().takeBaseBackup(from.name, from.connection, options);
    });
  }

  verifyBackup(backup: BaseBackup): Promise<{ ok: boolean; output: string }> {
    return this.local().verifyBackup(backup);
  }

  listBackups(): BaseBackup[] {
    return this.workspace?.listBackups() ?? [];
  }

  async restore(backup: BaseBackup, name: string, target: RecoveryTargetSpec | 'backup-only'): Promise<ExternalRestoredInstance> {
    if (target !== 'backup-only') {
      throw new EnvironmentError(
        'EXTERNAL_NO_WAL_ARCHIVE',
        `point-in-time restore of ${backup.id} needs the server's WAL archive, and an external server archives wherever its own ` +
          'archive_command says, out of the harness\'s reach. Restore the base backup alone, or use provider: native or ' +
          'testcontainers for point-in-time recovery drills.',
      );
    }
    const workspace = this.local();
    const version = Number(readFileSync(path.join(backup.dir, 'PG_VERSION'), 'utf8').trim());
    if (version !== workspace.binaries.major) {
      throw new EnvironmentError(
        'PG_VERSION_MISMATCH',
        `${backup.id} is of a PostgreSQL ${version} server and the local binaries (${workspace.binaries.bindir}) are ` +
          `PostgreSQL ${workspace.binaries.major}; set DRILL_PG_BINDIR to PostgreSQL ${version} binaries to restore it here`,
      );
    }
    const local = await workspace.copyBackup(backup, name);
    await prepareExternalCopy(local, workspace.binaries.major, workspace.runAs);
    await workspace.startRestored(local, backup);
    const { user, database } = this.primary.connection;
    await setCopyPassword(local, { user, database }, workspace.password);
    return new ExternalRestoredInstance(local, { user, database });
  }

  readonly replicas: PgInstance[] = [];

  async createReplica(name: string): Promise<PgInstance> {
    throw new EnvironmentError(
      'REPLICAS_UNSUPPORTED',
      `cannot create replica "${name}": the harness reaches an external server over SQL only and cannot run replicas of it; ` +
        'use provider: native for replica drills, or set targets.postgres.replicas: 0',
    );
  }

  async dispose(): Promise<void> {
    await this.workspace?.dispose();
  }

  /**
   * pg_basebackup writes each tablespace to the absolute path it has on the server, which here
   * would be outside the workspace (and possibly someone's directory), so refuse them.
   */
  private async refuseTablespaces(): Promise<void> {
    const names = await withClient(this.primary.connection, async (c) =>
      (await c.query<{ spcname: string }>("select spcname from pg_tablespace where spcname not in ('pg_default', 'pg_global')")).rows,
    );
    if (names.length === 0) return;
    throw new EnvironmentError(
      'EXTERNAL_TABLESPACES',
      `the external server has tablespaces (${names.map((n) => n.spcname).join(', ')}), which pg_basebackup would write to ` +
        'their server paths on this machine; the external provider backs up servers without tablespaces only',
    );
  }

  /** Runs a backup step whose errors may quote the connection, returning them without its password. */
  private async scrubbed<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const clean = scrubPassword(message, this.primary.connection);
      if (error instanceof DrillError && clean === message) throw error;
      if (error instanceof DrillError) throw new DrillError(error.code, clean, error.kind);
      // No `cause`: the original error is not scrubbed, and causes get printed.
      throw new EnvironmentError(
        'EXTERNAL_BACKUP_FAILED',
        `base backup of the external PostgreSQL at ${describeConnection(this.primary.connection)} failed: ${clean}`,
      );
    }
  }
}
