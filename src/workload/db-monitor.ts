import createDebug from 'debug';
import type { Clock } from '../engine/clock.js';
import type { MonitorSample } from '../engine/journal-types.js';
import { lsnDiff } from '../targets/postgres/lsn.js';
import { currentWalLsn, replicationRows, standbyPosition, type ReplicationRow } from '../targets/postgres/replication-status.js';
import type { PgInstance, PostgresDeployment } from '../targets/postgres/types.js';
import { withClient } from '../targets/postgres/with-client.js';
import type { DatabaseRouter } from './database-router.js';
import { adminConnection } from '../targets/postgres/sql-names.js';

const debug = createDebug('drill:monitor');

export interface DbMonitorOptions {
  router: DatabaseRouter;
  deployment: PostgresDeployment;
  clock: Clock;
  intervalMs: number;
  record: (sample: MonitorSample) => void;
}

/** How often the drill engine samples. */
export const MONITOR_INTERVAL_MS = 1000;

/** Time allowed per reading: a hung server must not stall the loop past a couple of intervals. */
const QUERY_TIMEOUT_MS = 3000;


/** Client connections other than the monitor's own (the runbook's `count(*) from pg_stat_activity`). */
const CONNECTIONS_SQL = `select count(*)::int as n from pg_stat_activity where backend_type = 'client backend' and pid <> pg_backend_pid()`;

/**
 * The runbook's "Monitor database connections" and "Monitor replication lag" during the drill:
 * every interval, the current primary's client connections, its WAL position and
 * pg_stat_replication, and each replica's own receive/replay position. Lag in bytes is the
 * primary's WAL position minus the replica's replay position, so a replica that has stopped
 * streaming (and vanished from pg_stat_replication) still shows its growing lag. It observes
 * only: a failed reading is recorded as unreachable, never retried or acted on.
 */
export class DbMonitor {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;

  constructor(private readonly options: DbMonitorOptions) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.loop(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** One round of readings; exposed for tests. */
  async sampleOnce(): Promise<void> {
    const { router, deployment } = this.options;
    const primary = router.current;
    const replicas = deployment.replicas.filter((r) => r !== primary);
    const upstream = await this.readPrimary(primary);
    await Promise.all(replicas.map((r) => this.readReplica(r, upstream)));
  }

  private loop(delay: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      const started = this.options.clock.now();
      this.running = this.sampleOnce()
        .catch((error: unknown) => debug('sample failed: %s', String(error)))
        .finally(() => {
          this.running = undefined;
          this.loop(Math.max(0, this.options.intervalMs - (this.options.clock.now() - started)));
        });
    }, delay);
  }

  private async readPrimary(primary: PgInstance): Promise<{ lsn: string; rows: ReplicationRow[] } | undefined> {
    try {
      const reading = await withClient(adminConnection(primary), async (c) => ({
        connections: (await c.query<{ n: number }>(CONNECTIONS_SQL)).rows[0]!.n,
        lsn: await currentWalLsn(c),
        rows: await replicationRows(c),
      }), QUERY_TIMEOUT_MS);
      this.sample(primary, 'reachable', 1, 'bool');
      this.sample(primary, 'connections', reading.connections, 'connections');
      return reading;
    } catch (error) {
      debug('%s unreachable: %s', primary.name, String(error));
      this.sample(primary, 'reachable', 0, 'bool');
      return undefined;
    }
  }

  private async readReplica(replica: PgInstance, upstream: { lsn: string; rows: ReplicationRow[] } | undefined): Promise<void> {
    let reading;
    try {
      reading = await withClient(adminConnection(replica), async (c) => ({
        connections: (await c.query<{ n: number }>(CONNECTIONS_SQL)).rows[0]!.n,
        position: await standbyPosition(c),
      }), QUERY_TIMEOUT_MS);
    } catch (error) {
      debug('%s unreachable: %s', replica.name, String(error));
      this.sample(replica, 'reachable', 0, 'bool');
      return;
    }
    this.sample(replica, 'reachable', 1, 'bool');
    this.sample(replica, 'connections', reading.connections, 'connections');
    const { position } = reading;
    // Lag needs a live primary to measure against, and means nothing once the replica is promoted.
    if (!upstream || !position.inRecovery || !position.replayLsn) return;
    const bytes = Math.max(0, lsnDiff(upstream.lsn, position.replayLsn));
    this.sample(replica, 'replication-lag-bytes', bytes, 'bytes');
    const row = upstream.rows.find((r) => r.name === replica.name);
    // pg_stat_replication's replay_lag while it streams; otherwise how old its newest replayed commit is.
    const seconds = bytes === 0 ? 0 : (row?.replayLagSeconds ?? position.replayAgeSeconds ?? 0);
    this.sample(replica, 'replication-lag-seconds', Math.max(0, seconds), 'seconds');
  }

  private sample(instance: PgInstance, kind: MonitorSample['kind'], value: number, unit: MonitorSample['unit']): void {
    this.options.record({ t: this.options.clock.now(), instance: instance.name, kind, value, unit });
  }
}
