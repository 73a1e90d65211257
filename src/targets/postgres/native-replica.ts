import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import createDebug from 'debug';
import { EnvironmentError } from '../../engine/errors.js';
import { runCommand } from '../process/run-command.js';
import type { NativeWorkspace } from './native-deployment.js';
import type { NativeInstance } from './native-instance.js';
import type { PgInstance, ReplicaOptions } from './types.js';
import {
  awaitReplicaState,
  replicaSettings,
  requireReplicaName,
  setSynchronousStandbys,
  slotNameOf,
  withoutSynchronousNames,
} from './streaming-replica.js';

const debug = createDebug('drill:pg');

export { synchronousStandbyNames } from './streaming-replica.js';

/**
 * The streaming replicas of a native deployment: each a pg_basebackup of the primary (with its own
 * replication slot) in the deployment's temp root, on its own port, recorded in the resource
 * ledger like every other instance, and stopped and removed with the deployment.
 */
export class NativeReplicas {
  readonly instances: NativeInstance[] = [];
  private readonly synchronous: string[] = [];

  rebuild(workspace: NativeWorkspace, instance: NativeInstance, upstream: PgInstance): Promise<{ slot: string; backupStartLsn?: string }> {
    return rebuildReplica(workspace, instance, upstream);
  }

  async create(workspace: NativeWorkspace, primary: NativeInstance, name: string, options: ReplicaOptions = {}): Promise<NativeInstance> {
    requireReplicaName(name, workspace.instances.map((i) => i.name));
    const instance = await workspace.newInstance(name);
    await workspace.ownedDir(workspace.archiveOf(name));
    const { host, port, user } = primary.connection;
    await runCommand(
      workspace.binaries.path('pg_basebackup'),
      ['-h', host, '-p', String(port), '-U', user, '-D', instance.dataDir, '-X', 'stream', '-c', 'fast', '--no-sync', '-C', '-S', slotNameOf(name)],
      { runAs: workspace.runAs, env: workspace.libpqEnv(primary.connection) },
    );
    dropCopiedSynchronousNames(instance.dataDir);
    // Later lines win: the replica's own port, socket and archive, then the standby settings.
    // Through the replication link's proxy when there is one: the replica streams through it from its first byte of WAL.
    const upstream = options.upstream ? { ...primary.connection, ...options.upstream } : primary.connection;
    // The primary's password for the proxy's address too, in the pgpass file the WAL receiver reads.
    if (options.upstream) workspace.libpqEnv(upstream);
    await instance.writeSettings({ ...workspace.baseSettings(instance), ...replicaSettings(upstream, name, workspace.passfile.path) });
    await instance.dataDirectory.touch('standby.signal');
    await instance.start();
    await awaitReplicaState(primary, instance, false);
    if (options.synchronous) {
      this.synchronous.push(name);
      await setSynchronousStandbys(primary, this.synchronous);
      await awaitReplicaState(primary, instance, true);
    }
    this.instances.push(instance);
    debug('replica %s streaming from %s%s (%s)', name, primary.name, options.upstream ? ` through ${options.upstream.host}:${options.upstream.port}` : '', options.synchronous ? 'synchronous' : 'asynchronous');
    return instance;
  }
}

/**
 * A failback's rebuild: `instance` (down, e.g. its region lost) becomes a streaming replica of
 * `upstream` with a fresh pg_basebackup into its own data directory, the same path (already in the
 * ledger, so the data-dir reaper still finds it after a kill -9), emptied first. Decided over
 * pg_rewind, which would copy only the changed blocks: rewind needs the killed target's crash
 * recovery in single-user mode, a CHECKPOINT on the just-promoted source before it sees the new
 * timeline, and then rewrites every configuration file from the source anyway; a drill's data set
 * is small, and a fresh copy cannot bring back anything of the old timeline (writes the DR never
 * got). Its own settings (address, port, archive) are written after the copy's.
 */
export async function rebuildReplica(workspace: NativeWorkspace, instance: NativeInstance, upstream: PgInstance): Promise<{ slot: string; backupStartLsn?: string }> {
  if (instance.walVolume || instance.dataVolume || instance.ioFaults) {
    throw new EnvironmentError('REBUILD_UNSUPPORTED', `${instance.name} has its data or WAL on a volume of the drill's; a failback rebuild of it is not built: leave out walVolume, dataVolume and dataPassthrough`);
  }
  if (instance.localProcesses.serving() || instance.localProcesses.others().length > 0) {
    throw new EnvironmentError('REBUILD_SERVER_RUNNING', `${instance.name} still runs; stop or fence it before it is rebuilt as a replica of ${upstream.name}`);
  }
  const name = instance.name;
  // The killed postmaster's socket lock names its pid, which may still be a zombie (kill(pid, 0)
  // succeeds until its parent reaps it): PostgreSQL would refuse to start, taking it for another
  // postmaster on the socket. Nothing of this server runs (checked above), so the lock is stale.
  for (const file of [`.s.PGSQL.${instance.connection.port}.lock`, `.s.PGSQL.${instance.connection.port}`]) await rm(path.join(instance.socketDir, file), { force: true });
  // Emptied, not removed: the directory is the one the ledger names, and keeps its owner and mode.
  for (const entry of await readdir(instance.dataDir)) await rm(path.join(instance.dataDir, entry), { recursive: true, force: true });
  const slot = slotNameOf(name);
  await runCommand(
    workspace.binaries.path('pg_basebackup'),
    ['-h', upstream.connection.host, '-p', String(upstream.connection.port), '-U', upstream.connection.user, '-D', instance.dataDir, '-X', 'stream', '-c', 'fast', '--no-sync', '-C', '-S', slot],
    { runAs: workspace.runAs, env: workspace.libpqEnv(upstream.connection) },
  );
  dropCopiedSynchronousNames(instance.dataDir);
  await instance.writeSettings({ ...workspace.baseSettings(instance), ...replicaSettings(upstream.connection, name, workspace.passfile.path) });
  await instance.dataDirectory.touch('standby.signal');
  await instance.start();
  await awaitReplicaState(upstream, instance, false);
  const label = path.join(instance.dataDir, 'backup_label.old');
  const backupStartLsn = existsSync(label) ? /START WAL LOCATION: (\S+)/.exec(readFileSync(label, 'utf8'))?.[1] : undefined;
  debug('%s rebuilt as a replica of %s (slot %s)', name, upstream.name, slot);
  return { slot, ...(backupStartLsn ? { backupStartLsn } : {}) };
}

function dropCopiedSynchronousNames(dataDir: string): void {
  const file = path.join(dataDir, 'postgresql.auto.conf');
  if (!existsSync(file)) return;
  const text = readFileSync(file, 'utf8');
  const kept = withoutSynchronousNames(text);
  // Rewriting in place keeps the file's owner (the postgres user).
  if (kept !== text) writeFileSync(file, kept);
}
