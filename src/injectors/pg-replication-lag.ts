import createDebug from 'debug';
import { sleep } from '../engine/clock.js';
import type { DrillContext, FaultHandle } from '../engine/drill-context.js';
import { EnvironmentError, InputError } from '../engine/errors.js';
import { formatDuration } from '../scenario/duration.js';
import type { Fault } from '../scenario/schema.js';
import { lsnDiff } from '../targets/postgres/lsn.js';
import { currentWalLsn, replicationRows, standbyPosition } from '../targets/postgres/replication-status.js';
import type { PgInstance } from '../targets/postgres/types.js';
import { withClient } from '../targets/postgres/with-client.js';
import { requireDrillTarget } from '../engine/require-drill-target.js';
import { adminConnection } from '../targets/postgres/sql-names.js';

const debug = createDebug('drill:inject');

/** How long the replica's WAL receiver may take to stop once its upstream is cleared. */
const STOP_TIMEOUT_MS = 15_000;

type ReplicationLag = Extract<Fault, { type: 'pg-replication-lag' }>;


/**
 * Replication to a replica held back, then `holdFor` of writes on the primary that the replica
 * does not get. Its WAL receiver is stopped (primary_conninfo cleared with ALTER SYSTEM and a
 * reload), so the WAL is not even received: a promotion then ends recovery without it and the
 * writes are gone. Pausing replay instead would not do: promotion replays everything received.
 *
 * A precondition for a later fault (typically pg-primary-crash), not the outage itself, so it does
 * not set T_fault. Disposing it lets the replica stream again, if it is still a standby.
 */
export async function injectReplicationLag(ctx: DrillContext, fault: ReplicationLag): Promise<FaultHandle> {
  requireDrillTarget(ctx, 'pg-replication-lag');
  const replica = chooseReplica(ctx, fault.replica);
  const primary = ctx.router.current;
  const upstream = (await withClient(adminConnection(primary), replicationRows)).find((r) => r.name === replica.name);
  if (upstream?.syncState === 'sync' || upstream?.syncState === 'quorum') {
    throw new InputError(
      'LAG_ON_SYNCHRONOUS_REPLICA',
      `pg-replication-lag: ${replica.name} is a synchronous standby, so holding it back stops every commit on the primary ` +
        'instead of losing them; set targets.postgres.replication: async',
    );
  }

  const heldFrom = ctx.clock.now();
  await withClient(adminConnection(replica), async (c) => {
    await c.query("alter system set primary_conninfo = ''");
    await c.query('select pg_reload_conf()');
  });
  const release = async () => {
    // Promoted or gone: there is no replication left to restore.
    const still = await withClient(adminConnection(replica), standbyPosition).catch(() => undefined);
    if (!still?.inRecovery) return;
    await withClient(adminConnection(replica), async (c) => {
      await c.query('alter system reset primary_conninfo');
      await c.query('select pg_reload_conf()');
    });
    // RESET falls back to postgresql.conf, where the replica was built streaming through the
    // replication link's proxy (when a fault degrades that link): prove it still does.
    const link = ctx.pg.replicationLink;
    if (!link) return;
    const conninfo = await reloadedConninfo(replica);
    if (!conninfo.includes(`port=${link.listen.port} `)) {
      throw new EnvironmentError(
        'REPLICATION_LINK_BYPASSED',
        `${replica.name} streams again, but not through ${link.description} (its primary_conninfo no longer names port ${link.listen.port}); ` +
          'a later fault on link: replication would miss it: check what else sets primary_conninfo (postgresql.auto.conf)',
      );
    }
  };
  // Held back but not proven: nothing may stay held without a handle to release it.
  let heldAt: Awaited<ReturnType<typeof awaitReceiverStopped>>;
  let primaryLsn: string;
  let position: Awaited<ReturnType<typeof standbyPosition>>;
  try {
    heldAt = await awaitReceiverStopped(primary, replica);
    ctx.recorder.event('replication-held', `replication to ${replica.name} held back at ${heldAt ?? 'its start'}`, { replica: replica.name, heldAt });
    debug('%s held back at %s for %d ms', replica.name, heldAt, fault.holdFor);

    await sleep(fault.holdFor, ctx.signal);

    primaryLsn = await withClient(adminConnection(primary), currentWalLsn);
    position = await withClient(adminConnection(replica), standbyPosition);
    // The proof that the hold held: nothing arrived while the primary went on writing.
    if (position.receiveLsn !== heldAt || position.walReceiver !== null) {
      throw new EnvironmentError(
        'LAG_NOT_HELD',
        `replication to ${replica.name} was to be held at ${heldAt} but it received up to ${position.receiveLsn} ` +
          `(WAL receiver: ${position.walReceiver ?? 'none'}); another setting (restore_command?) feeds it WAL`,
      );
    }
  } catch (error) {
    await release().catch(() => undefined);
    throw error;
  }
  const bytesBehind = position.replayLsn ? lsnDiff(primaryLsn, position.replayLsn) : undefined;
  return {
    description: `replication to ${replica.name} held back for ${formatDuration(fault.holdFor)}`,
    details: { replica: replica.name, heldAtLsn: heldAt, primaryLsn, bytesBehind, holdForMs: fault.holdFor },
    precondition: true,
    inEffectAt: heldFrom,
    async [Symbol.asyncDispose]() {
      await release();
    },
  };
}

/** primary_conninfo once the reload has reached the server's backends (a new session, up to 5 s: the reload is asynchronous). */
async function reloadedConninfo(replica: PgInstance): Promise<string> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const value = await withClient(adminConnection(replica), async (c) => (await c.query<{ v: string }>("select setting as v from pg_settings where name = 'primary_conninfo'")).rows[0]?.v ?? '');
    if (value !== '' || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
}

function chooseReplica(ctx: DrillContext, name: string | undefined): PgInstance {
  const replicas = ctx.pg.replicas;
  const replica = name === undefined ? replicas[0] : replicas.find((r) => r.name === name);
  if (replica) return replica;
  throw new InputError(
    'NO_SUCH_REPLICA',
    replicas.length === 0
      ? 'pg-replication-lag needs a streaming replica; set targets.postgres.replicas: 1 or more'
      : `pg-replication-lag: there is no replica "${name}"; the replicas are ${replicas.map((r) => r.name).join(', ')}`,
  );
}

/** Waits until the replica runs no WAL receiver and the primary no longer lists it; returns where it stopped. */
async function awaitReceiverStopped(primary: PgInstance, replica: PgInstance): Promise<string | null> {
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  for (;;) {
    const position = await withClient(adminConnection(replica), standbyPosition);
    const listed = (await withClient(adminConnection(primary), replicationRows)).some((r) => r.name === replica.name);
    if (position.walReceiver === null && !listed) return position.receiveLsn;
    if (Date.now() > deadline) {
      throw new EnvironmentError(
        'LAG_NOT_HELD',
        `${replica.name} still ${listed ? 'streams from the primary' : `runs a WAL receiver (${position.walReceiver})`} ` +
          `${STOP_TIMEOUT_MS / 1000} s after its primary_conninfo was cleared`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
