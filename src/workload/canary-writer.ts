import { createHash, randomBytes } from 'node:crypto';
import createDebug from 'debug';
import pg from 'pg';
import type { Clock } from '../engine/clock.js';
import type { CanaryAck } from '../engine/journal-types.js';
import { CANARY_TABLE } from './dataset.js';
import type { DatabaseRouter } from './database-router.js';
import { withClient } from '../targets/postgres/with-client.js';

const debug = createDebug('drill:canary');

export interface CanaryWriterOptions {
  router: DatabaseRouter;
  clock: Clock;
  intervalMs: number;
  onAck: (ack: CanaryAck) => void;
  onFailure: (message: string) => void;
}

/**
 * The RPO ledger's source of truth: commits sequence-numbered rows at a fixed rate and records
 * each acknowledged commit. A write whose outcome is unknown (connection lost mid-commit) is never
 * recorded as acknowledged, and its id is not reused, so the ledger only claims what the client saw.
 */
export class CanaryWriter {
  private client: pg.Client | undefined;
  private timer: NodeJS.Timeout | undefined;
  private nextId = 1;
  private epoch = 1;
  private paused = false;
  private stopped = true;
  private inFlight: Promise<void> | undefined;
  attempts = 0;
  failures = 0;

  constructor(private readonly options: CanaryWriterOptions) {}

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** Stops issuing writes (the runbook's "stop write operations") and waits for the one in flight. */
  async pause(): Promise<void> {
    this.paused = true;
    await this.inFlight;
  }

  resume(): void {
    this.paused = false;
  }

  /**
   * Points the writer at whatever the router now names, as an application does after its
   * DATABASE_URL changes: a new epoch, ids continuing after the highest one that survived there.
   */
  async retarget(): Promise<void> {
    await this.pause();
    await this.dropConnection();
    const max = await withClient(this.options.router.connection, async (c) => {
      const { rows } = await c.query<{ max: string | null }>(`select max(id)::text as max from ${CANARY_TABLE}`);
      return Number(rows[0]!.max ?? 0);
    });
    this.epoch += 1;
    this.nextId = max + 1;
    debug('retargeted: epoch %d continues at id %d', this.epoch, this.nextId);
    this.resume();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.inFlight;
    await this.dropConnection();
  }

  private schedule(delay: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      const started = this.options.clock.now();
      this.inFlight = this.paused ? Promise.resolve() : this.writeOne();
      void this.inFlight.finally(() => {
        this.inFlight = undefined;
        this.schedule(Math.max(0, this.options.intervalMs - (this.options.clock.now() - started)));
      });
    }, delay);
  }

  private async writeOne(): Promise<void> {
    const id = this.nextId++;
    const epoch = this.epoch;
    const payload = randomBytes(32).toString('hex');
    const checksum = createHash('sha256').update(payload).digest('hex');
    const clientWall = new Date().toISOString();
    this.attempts += 1;
    try {
      const client = await this.connection();
      const { rows } = await client.query<{ server_ts: Date }>(
        `insert into ${CANARY_TABLE} (id, epoch, payload, checksum, client_ts) values ($1, $2, $3, $4, $5) returning server_ts`,
        [id, epoch, payload, checksum, clientWall],
      );
      this.options.onAck({
        id,
        epoch,
        checksum,
        tAck: this.options.clock.now(),
        clientWall,
        serverWall: rows[0]!.server_ts.toISOString(),
      });
    } catch (error) {
      this.failures += 1;
      const message = error instanceof Error ? error.message : String(error);
      debug('write %d failed: %s', id, message);
      this.options.onFailure(message);
      await this.dropConnection();
    }
  }

  private async connection(): Promise<pg.Client> {
    if (this.client) return this.client;
    const client = new pg.Client({ ...this.options.router.connection, connectionTimeoutMillis: 2000, query_timeout: 5000 });
    // A dead server emits 'error' on an idle client; the next write notices and reconnects.
    client.on('error', () => void this.dropConnection());
    await client.connect();
    this.client = client;
    return client;
  }

  private async dropConnection(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }
}
