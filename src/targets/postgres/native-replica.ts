import { chownSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import createDebug from 'debug';
import { EnvironmentError, InputError } from '../../engine/errors.js';
import { runCommand } from '../process/run-command.js';
import type { NativeWorkspace } from './native-deployment.js';
import type { NativeInstance } from './native-instance.js';
import { replicationRows } from './replication-status.js';
import type { ConnectionInfo, ReplicaOptions } from './types.js';
import { withClient } from './with-client.js';

const debug = createDebug('drill:pg');

/** How long a new replica may take to appear as streaming (or synchronous) on the primary. */
const STREAMING_TIMEOUT_MS = 60_000;

const REPLICA_NAME = /^[a-z0-9][a-z0-9-]{0,40}$/;

/** The physical replication slot that keeps the primary's WAL until the replica has it. */
export function slotNameOf(replica: string): string {
  return `drill_${replica.replaceAll('-', '_')}`;
}

/**
 * Settings that make a copy of the primary a streaming standby of it. They go into postgresql.conf
 * (not postgresql.auto.conf, where `pg_basebackup -R` would put them) so that a fault can override
 * primary_conninfo with ALTER SYSTEM and its revert can RESET it back to these.
 */
export function replicaSettings(primary: ConnectionInfo, name: string, passfile: string): Record<string, string | number> {
  return {
    // The password is read from the pgpass file: it is never in a setting (which pg_settings shows).
    primary_conninfo: `host=${primary.host} port=${primary.port} user=${primary.user} passfile='${passfile}' application_name=${name}`,
    primary_slot_name: slotNameOf(name),
    hot_standby: 'on',
    // Feedback every second keeps pg_stat_replication's lag figures fresh for the monitor.
    wal_receiver_status_interval: '1s',
  };
}

/** synchronous_standby_names for "a commit waits until any one of these replicas has flushed it". */
export function synchronousStandbyNames(names: readonly string[]): string {
  return names.length === 0 ? '' : `ANY 1 (${names.map((n) => `"${n}"`).join(', ')})`;
}

/**
 * The streaming replicas of a native deployment: each a pg_basebackup of the primary (with its own
 * replication slot) in the deployment's temp root, on its own port, recorded in the resource
 * ledger like every other instance, and stopped and removed with the deployment.
 */
export class NativeReplicas {
  readonly instances: NativeInstance[] = [];
  private readonly synchronous: string[] = [];

  async create(workspace: NativeWorkspace, primary: NativeInstance, name: string, options: ReplicaOptions = {}): Promise<NativeInstance> {
    if (!REPLICA_NAME.test(name) || workspace.instances.some((i) => i.name === name)) {
      throw new InputError('REPLICA_NAME', `replica name "${name}" is invalid or taken; use lower-case letters, digits and dashes`);
    }
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
    await instance.writeSettings({ ...workspace.baseSettings(instance), ...replicaSettings(primary.connection, name, workspace.passfile.path) });
    const signal = path.join(instance.dataDir, 'standby.signal');
    await writeFile(signal, '');
    if (workspace.runAs) chownSync(signal, workspace.runAs.uid, workspace.runAs.gid);
    await instance.start();
    await awaitReplicaState(primary, instance, false);
    if (options.synchronous) {
      this.synchronous.push(name);
      await withClient(primary.connection, async (c) => {
        await c.query(`alter system set synchronous_standby_names = ${c.escapeLiteral(synchronousStandbyNames(this.synchronous))}`);
        await c.query('select pg_reload_conf()');
      });
      await awaitReplicaState(primary, instance, true);
    }
    this.instances.push(instance);
    debug('replica %s streaming from %s (%s)', name, primary.name, options.synchronous ? 'synchronous' : 'asynchronous');
    return instance;
  }
}

/**
 * pg_basebackup copies the primary's postgresql.auto.conf, and with it the synchronous standby
 * names set there by ALTER SYSTEM. Promoted, a replica would then wait for standbys that stream
 * from the dead primary and never acknowledge: every commit would hang. They are the primary's.
 */
function dropCopiedSynchronousNames(dataDir: string): void {
  const file = path.join(dataDir, 'postgresql.auto.conf');
  if (!existsSync(file)) return;
  const text = readFileSync(file, 'utf8');
  const kept = text.split('\n').filter((line) => !/^\s*synchronous_standby_names\s*=/.test(line));
  // Rewriting in place keeps the file's owner (the postgres user).
  if (kept.length !== text.split('\n').length) writeFileSync(file, kept.join('\n'));
}

/** Waits until the primary lists the replica as streaming (and, when asked, as a synchronous standby). */
async function awaitReplicaState(primary: NativeInstance, replica: NativeInstance, synchronous: boolean): Promise<void> {
  const deadline = Date.now() + STREAMING_TIMEOUT_MS;
  let seen = 'not connected';
  while (Date.now() < deadline) {
    const row = (await withClient(primary.connection, replicationRows)).find((r) => r.name === replica.name);
    if (row) seen = `state ${row.state}, sync_state ${row.syncState}`;
    if (row?.state === 'streaming' && (!synchronous || row.syncState === 'sync' || row.syncState === 'quorum')) return;
    if (!(await replica.isRunning())) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new EnvironmentError(
    'REPLICA_NOT_STREAMING',
    `replica "${replica.name}" is not ${synchronous ? 'a synchronous standby' : 'streaming'} of ${primary.name} ` +
      `(${seen}) after ${STREAMING_TIMEOUT_MS / 1000} s; its log: ${replica.logTail(12)} (${replica.logFile})`,
  );
}
