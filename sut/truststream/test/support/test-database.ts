import { startClock } from '../../../../src/engine/clock.js';
import { ResourceLedger } from '../../../../src/engine/resource-ledger.js';
import { databaseUrl } from '../../../../src/targets/kubernetes/database-url.js';
import { NativeDeployment } from '../../../../src/targets/postgres/native-deployment.js';
import type { ConnectionInfo } from '../../../../src/targets/postgres/types.js';
import { withClient } from '../../../../src/targets/postgres/with-client.js';
import { createDataset } from '../../../../src/workload/dataset.js';
import { createToken } from '../../src/admin/tokens.js';

/** A real PostgreSQL (native binaries) holding the drill data set, as the service finds it in a drill. */
export interface TestDatabase {
  deployment: NativeDeployment;
  /** The drill database, as the harness connects to it. */
  connection: ConnectionInfo;
  /** The service's DATABASE_URL. */
  url: string;
  sql<T extends Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  /** A fresh API token (created the way the harness will). */
  token(name: string): Promise<string>;
  dispose(): Promise<void>;
}

export async function startTestDatabase(runId: string, size = { accounts: 30, transfers: 200 }): Promise<TestDatabase> {
  let deployment: NativeDeployment | undefined;
  try {
    deployment = await NativeDeployment.create({ runId, clock: startClock(), ledger: new ResourceLedger(undefined) }, (d) => (deployment = d));
    await createDataset(deployment.primary.connection, size);
  } catch (error) {
    await deployment?.dispose();
    throw error;
  }
  const d = deployment;
  const connection = { ...d.primary.connection, database: 'drill' };
  const sql = async <T extends Record<string, unknown>>(text: string, params: unknown[] = []) => withClient(connection, async (c) => (await c.query<T>(text, params)).rows);
  return {
    deployment: d,
    connection,
    url: databaseUrl(connection),
    sql,
    token: async (name) => withClient(connection, async (c) => (await createToken(c, name)).token),
    dispose: () => d.dispose(),
  };
}

/** The seeded account (id below 1e9: not one of the drill's workload accounts) with the highest computed balance, and one other account. */
export async function richAccount(db: TestDatabase): Promise<{ id: number; balance: number; other: number }> {
  const rows = await db.sql<{ id: string; balance: string }>(
    `select a.id::text, (a.balance + coalesce((select sum(amount) from transfers where to_account = a.id), 0)
                                  - coalesce((select sum(amount) from transfers where from_account = a.id), 0))::text as balance
       from accounts a where a.id < 1000000000 order by 2::numeric desc, 1 limit 2`,
  );
  return { id: Number(rows[0]!.id), balance: Number(rows[0]!.balance), other: Number(rows[1]!.id) };
}
