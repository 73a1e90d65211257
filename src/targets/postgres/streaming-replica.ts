import { EnvironmentError, InputError } from '../../engine/errors.js';
import { replicationRows } from './replication-status.js';
import type { ConnectionInfo, PgInstance } from './types.js';
import { withClient } from './with-client.js';

/**
 * What streaming replicas need whatever runs them (native processes, servers in a container):
 * their names, slots and standby settings, the synchronous standby list, and the wait until the
 * primary sees them streaming.
 */

/** How long a new replica may take to appear as streaming (or synchronous) on the primary. */
const STREAMING_TIMEOUT_MS = 60_000;

const REPLICA_NAME = /^[a-z0-9][a-z0-9-]{0,40}$/;

export function requireReplicaName(name: string, taken: readonly string[]): void {
  if (!REPLICA_NAME.test(name) || taken.includes(name)) {
    throw new InputError('REPLICA_NAME', `replica name "${name}" is invalid or taken; use lower-case letters, digits and dashes`);
  }
}

/** The physical replication slot that keeps the primary's WAL until the replica has it. */
export function slotNameOf(replica: string): string {
  return `drill_${replica.replaceAll('-', '_')}`;
}

/**
 * Settings that make a copy of the primary a streaming standby of it. They go into postgresql.conf
 * (not postgresql.auto.conf, where `pg_basebackup -R` would put them) so that a fault can override
 * primary_conninfo with ALTER SYSTEM and its revert can RESET it back to these. `primary` is the
 * primary as the replica reaches it (a loopback port, or the socket directory in a container).
 * `passfile`: where the replica reads the password from (native: the workspace's pgpass), so it is
 * never in a setting, which pg_settings shows; without it the connection needs none (a container's
 * own socket, which its image trusts).
 */
export function replicaSettings(
  primary: Pick<ConnectionInfo, 'host' | 'port' | 'user'>,
  name: string,
  passfile?: string,
): Record<string, string | number> {
  const password = passfile === undefined ? '' : ` passfile='${passfile}'`;
  return {
    primary_conninfo: `host=${primary.host} port=${primary.port} user=${primary.user}${password} application_name=${name}`,
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

/** Makes commits on the primary wait for one of these replicas (ALTER SYSTEM and a reload). */
export async function setSynchronousStandbys(primary: PgInstance, names: readonly string[]): Promise<void> {
  await withClient(primary.connection, async (c) => {
    await c.query(`alter system set synchronous_standby_names = ${c.escapeLiteral(synchronousStandbyNames(names))}`);
    await c.query('select pg_reload_conf()');
  });
}

/**
 * pg_basebackup copies the primary's postgresql.auto.conf, and with it the synchronous standby
 * names set there by ALTER SYSTEM. Promoted, a replica would then wait for standbys that stream
 * from the dead primary and never acknowledge: every commit would hang. They are the primary's.
 */
export function withoutSynchronousNames(autoConf: string): string {
  return autoConf
    .split('\n')
    .filter((line) => !/^\s*synchronous_standby_names\s*=/.test(line))
    .join('\n');
}

/** Waits until the primary lists the replica as streaming (and, when asked, as a synchronous standby). */
export async function awaitReplicaState(primary: PgInstance, replica: PgInstance, synchronous: boolean): Promise<void> {
  const deadline = Date.now() + STREAMING_TIMEOUT_MS;
  let seen = 'not connected';
  while (Date.now() < deadline) {
    const row = (await withClient(primary.connection, replicationRows)).find((r) => r.name === replica.name);
    if (row) seen = `state ${row.state}, sync_state ${row.syncState}`;
    if (row?.state === 'streaming' && (!synchronous || row.syncState === 'sync' || row.syncState === 'quorum')) return;
    if (!(await replica.isRunning())) break;
    // A replica streams within tens of milliseconds of its start: a drill's provision waits on this.
    await new Promise((r) => setTimeout(r, 25));
  }
  const log = replica.logTail ? await replica.logTail(12) : '(log out of reach)';
  throw new EnvironmentError(
    'REPLICA_NOT_STREAMING',
    `replica "${replica.name}" is not ${synchronous ? 'a synchronous standby' : 'streaming'} of ${primary.name} ` +
      `(${seen}) after ${STREAMING_TIMEOUT_MS / 1000} s; its log: ${log}`,
  );
}
