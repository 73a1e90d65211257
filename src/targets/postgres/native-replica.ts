import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import createDebug from 'debug';
import { runCommand } from '../process/run-command.js';
import type { NativeWorkspace } from './native-deployment.js';
import type { NativeInstance } from './native-instance.js';
import type { ReplicaOptions } from './types.js';
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

function dropCopiedSynchronousNames(dataDir: string): void {
  const file = path.join(dataDir, 'postgresql.auto.conf');
  if (!existsSync(file)) return;
  const text = readFileSync(file, 'utf8');
  const kept = withoutSynchronousNames(text);
  // Rewriting in place keeps the file's owner (the postgres user).
  if (kept !== text) writeFileSync(file, kept);
}
