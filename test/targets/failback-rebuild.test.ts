import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startClock } from '../../src/engine/clock.js';
import { readResources, ResourceLedger } from '../../src/engine/resource-ledger.js';
import { fenceWrites } from '../../src/recovery/fence-dr-writes.js';
import { replayReached } from '../../src/recovery/failback.js';
import { NativeDeployment } from '../../src/targets/postgres/native-deployment.js';
import { standbyPosition } from '../../src/targets/postgres/replication-status.js';
import type { PgInstance } from '../../src/targets/postgres/types.js';
import { withClient } from '../../src/targets/postgres/with-client.js';

// Failback's two PostgreSQL pieces on real servers: the lost primary rebuilt as a replica of the
// promoted one (rebuildAsReplica), and the fence that stops writes on the promoted one.
const tmp = mkdtempSync(path.join(os.tmpdir(), 'drill-failback-test-'));
const ledgerFile = path.join(tmp, 'resources.jsonl');
const db = (i: PgInstance) => ({ ...i.connection, database: 'postgres' });
const count = (i: PgInstance) => withClient(db(i), async (c) => Number((await c.query<{ n: string }>('select count(*)::text n from t')).rows[0]!.n));
const insert = (i: PgInstance, from: number, to: number) => withClient(db(i), (c) => c.query('insert into t select generate_series($1::int, $2::int)', [from, to]));

async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('failback on real PostgreSQL: rebuild the lost primary from the promoted replica, fence the promoted one', () => {
  let deployment: NativeDeployment;
  let primary: PgInstance;
  let replica: PgInstance;

  beforeAll(async () => {
    deployment = await NativeDeployment.create({ runId: 'test-failback', clock: startClock(), ledger: new ResourceLedger(ledgerFile) }, (d) => (deployment = d));
    primary = deployment.primary;
    replica = await deployment.createReplica('replica-1');
    await withClient(db(primary), (c) => c.query('create table t (id int primary key)'));
    await insert(primary, 1, 100);
    await until('the replica to have the rows', async () => (await count(replica).catch(() => 0)) === 100);
    // The primary lost (SIGKILL), the replica promoted and taking writes: the state failback starts from.
    await primary.kill();
    await withClient(db(replica), (c) => c.query('select pg_promote(true, 30)'));
    await insert(replica, 101, 200);
  }, 120_000);

  afterAll(async () => {
    await deployment?.dispose();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('refuses to rebuild a server that still runs', async () => {
    await expect(deployment.rebuildAsReplica(replica, primary)).rejects.toMatchObject({ code: 'REBUILD_SERVER_RUNNING' });
  });

  it('rebuilds the lost primary in its own (ledgered) data directory, on its own address and port, as a streaming replica of the promoted one', async () => {
    const before = { connection: { ...primary.connection }, dataDir: deployment.primary.dataDir };
    const result = await deployment.rebuildAsReplica(primary, replica);
    expect(result.slot).toBe('drill_primary');
    expect(primary.connection).toEqual(before.connection);
    // The same data directory as the one the ledger recorded at creation: nothing new to reap.
    expect(readResources(ledgerFile).filter((r) => r.kind === 'pg-data-dir' && r.path === before.dataDir)).toHaveLength(1);
    const position = await withClient(db(primary), standbyPosition);
    expect(position.inRecovery).toBe(true);
    await until('the rebuilt primary to have the promoted replica\'s writes', async () => (await count(primary)) === 200);
    await insert(replica, 201, 210);
    await until('it to stream new writes', async () => (await count(primary)) === 210);
  });

  it('the fence stops every write on the promoted server (an open read-write transaction terminated, new ones read-only); the rebuilt one replays up to its LSN and has every committed row', async () => {
    // A read-write transaction begun before the fence, with a write not yet committed.
    const open = new pg.Client(db(replica));
    open.on('error', () => undefined);
    await open.connect();
    await open.query('begin');
    await open.query('insert into t values (1000)');
    const fence = await fenceWrites(replica, 500, new AbortController().signal);
    expect(fence.terminated).toHaveLength(1);
    await expect(open.query('commit')).rejects.toThrow();
    await open.end().catch(() => undefined);
    // A new session cannot write.
    await expect(insert(replica, 2000, 2000)).rejects.toThrow(/read-only transaction/);
    await until('the rebuilt primary to replay up to the fence', async () => replayReached((await withClient(db(primary), standbyPosition)).replayLsn, fence.lsn));
    await withClient(db(primary), (c) => c.query('select pg_promote(true, 30)'));
    expect(await count(primary)).toBe(await count(replica));
    expect(await count(primary)).toBe(210);
    // The promoted rebuilt primary takes writes.
    await insert(primary, 211, 211);
    expect(await count(primary)).toBe(211);
  });
});
