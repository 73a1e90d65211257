import pg from 'pg';
import type { ConnectionInfo } from './types.js';
import { endClient } from './end-client.js';

/** One short-lived connection for harness bookkeeping (not the workload's own connections). */
export async function withClient<T>(
  connection: ConnectionInfo,
  fn: (client: pg.Client) => Promise<T>,
  timeoutMs = 30_000,
): Promise<T> {
  const client = new pg.Client({ ...connection, connectionTimeoutMillis: 5000, query_timeout: timeoutMs });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await endClient(client);
  }
}
