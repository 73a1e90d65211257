import pg from 'pg';
import type { DatabaseRouter } from '../database-router.js';
import type { ProbeCheck } from './probe.js';
import { endClient } from '../../targets/postgres/end-client.js';

/** Runs a query against the application's current database, the way the application reaches it (through the network link when there is one); any error is a failing sample. */
export class SqlProbe implements ProbeCheck {
  private client: pg.Client | undefined;
  private clientPort: number | undefined;

  constructor(
    readonly name: string,
    private readonly query: string,
    private readonly router: DatabaseRouter,
    readonly intervalMs: number,
    readonly timeoutMs: number,
    readonly service: boolean,
  ) {}

  inFlightTarget(): string {
    const target = this.router.applicationConnection;
    return `${target.host}:${target.port}`;
  }

  async check(): Promise<void> {
    const target = this.router.applicationConnection;
    if (this.client && this.clientPort !== target.port) await this.close();
    try {
      if (!this.client) {
        const client = new pg.Client({ ...target, connectionTimeoutMillis: this.timeoutMs, query_timeout: this.timeoutMs });
        client.on('error', () => void this.close());
        await client.connect();
        this.client = client;
        this.clientPort = target.port;
      }
      await this.client.query(this.query);
    } catch (error) {
      await this.close();
      throw error;
    }
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) await endClient(client);
  }
}
