import { createHash, randomBytes } from 'node:crypto';
import pg from 'pg';
import type { RecoveredLedger, Stamp } from '../engine/journal-types.js';
import type { ConnectionInfo } from '../targets/postgres/types.js';
import { withClient } from '../targets/postgres/with-client.js';
import type { CanaryChannel, CanaryReceipt } from './canary-channel.js';
import type { DatabaseRouter } from './database-router.js';
import { CANARY_TABLE } from './dataset.js';
import { readLedger } from './ledger-reader.js';
import { endClient } from '../targets/postgres/end-client.js';

/**
 * The database-only canary: an INSERT into drill_canary on the router's current instance, acknowledged by its commit.
 * It writes as the application does, through the network link when there is one (applicationConnection),
 * or (`path: 'direct'`) straight to the instance: a client on the database's side of a partition.
 */
export class SqlCanaryChannel implements CanaryChannel {
  readonly backsOffWhileFailing = true;
  private client: pg.Client | undefined;

  constructor(
    private readonly router: DatabaseRouter,
    private readonly path: 'application' | 'direct' = 'application',
  ) {}

  async write(id: number, epoch: number): Promise<CanaryReceipt> {
    const payload = randomBytes(32).toString('hex');
    const checksum = createHash('sha256').update(payload).digest('hex');
    const client = await this.connection();
    const { rows } = await client.query<{ server_ts: Date }>(
      `insert into ${CANARY_TABLE} (id, epoch, payload, checksum, client_ts) values ($1, $2, $3, $4, $5) returning server_ts`,
      [id, epoch, payload, checksum, new Date().toISOString()],
    );
    return { checksum, serverWall: rows[0]!.server_ts.toISOString() };
  }

  async highestId(): Promise<number> {
    return withClient(this.router.connection, async (c) => {
      const { rows } = await c.query<{ max: string | null }>(`select max(id)::text as max from ${CANARY_TABLE}`);
      return Number(rows[0]!.max ?? 0);
    });
  }

  async reset(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) await endClient(client);
  }

  readBack(connection: ConnectionInfo, instance: string, at: () => Stamp): Promise<RecoveredLedger> {
    return readLedger(connection, instance, at);
  }

  private async connection(): Promise<pg.Client> {
    if (this.client) return this.client;
    const where = this.path === 'direct' ? this.router.connection : this.router.applicationConnection;
    const client = new pg.Client({ ...where, connectionTimeoutMillis: 2000, query_timeout: 5000 });
    // A dead server emits 'error' on an idle client; the next write notices and reconnects.
    client.on('error', () => void this.reset());
    await client.connect();
    this.client = client;
    return client;
  }
}
