import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startClock } from '../../src/engine/clock.js';
import { ResourceLedger } from '../../src/engine/resource-ledger.js';
import { fenceWrites } from '../../src/recovery/fence-dr-writes.js';
import { verifyWritesRefused } from '../../src/recovery/verify-fence.js';
import { NativeDeployment } from '../../src/targets/postgres/native-deployment.js';
import type { PgInstance } from '../../src/targets/postgres/types.js';
import { withClient } from '../../src/targets/postgres/with-client.js';

// failback's DR write fence on a real PostgreSQL (the DR primary, with a streaming replica as the
// rebuilt primary would be): sessions opened before the fence are ended, replication is not, and a
// new session's write is checked to be refused (25006). Negative controls: with no fence, and with
// a per-database value that overrides it, the check fails with DR_FENCE_NOT_HOLDING.
const tmp = mkdtempSync(path.join(os.tmpdir(), 'drill-fence-verify-test-'));
const admin = (i: PgInstance) => ({ ...i.connection, database: 'postgres' });
const unfence = (i: PgInstance) => withClient(admin(i), async (c) => {
  await c.query('alter system reset default_transaction_read_only');
  await c.query('select pg_reload_conf()');
});
const walsenders = (i: PgInstance) => withClient(admin(i), async (c) => (await c.query<{ pid: number }>(`select pid from pg_stat_activity where backend_type = 'walsender'`)).rows.map((r) => r.pid));

async function session(i: PgInstance): Promise<pg.Client> {
  const client = new pg.Client(i.connection);
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

describe('the DR write fence, verified on real PostgreSQL', () => {
  let deployment: NativeDeployment;
  let dr: PgInstance;

  beforeAll(async () => {
    deployment = await NativeDeployment.create({ runId: 'test-fence-verify', clock: startClock(), ledger: new ResourceLedger(path.join(tmp, 'resources.jsonl')) }, (d) => (deployment = d));
    dr = deployment.primary;
    await deployment.createReplica('replica-1');
    await withClient(dr.connection, (c) => c.query('create table t (id int primary key)'));
  }, 120_000);

  afterAll(async () => {
    await deployment?.dispose();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('negative control: without the fence, the check\'s write goes through and the step\'s typed error says what to do', async () => {
    await unfence(dr);
    const error = await verifyWritesRefused(dr).catch((e: unknown) => e as { code: string; kind: string; message: string });
    expect(error).toMatchObject({ code: 'DR_FENCE_NOT_HOLDING', kind: 'check' });
    expect((error as { message: string }).message).toMatch(/took a write from a new session after the fence .*reset them/);
    // The check's own table was rolled back: nothing left behind on the server.
    expect(await withClient(dr.connection, async (c) => (await c.query(`select 1 from pg_class where relname like 'drill_fence_check_%'`)).rowCount)).toBe(0);
  });

  it('a session that set default_transaction_read_only off before the fence is ended; replication is not; a new session\'s write is refused with 25006', async () => {
    await unfence(dr);
    const walsender = await walsenders(dr);
    expect(walsender).toHaveLength(1);
    // A writer that opted out of the server's default for itself: the reload alone would not stop it.
    const optedOut = await session(dr);
    await optedOut.query('set default_transaction_read_only = off');
    const idle = await session(dr);
    const ownPid = (c: pg.Client) => c.query<{ pid: number }>('select pg_backend_pid() as pid').then((r) => r.rows[0]!.pid);
    const pids = [await ownPid(optedOut), await ownPid(idle)];

    const fence = await fenceWrites(dr, 500, new AbortController().signal);
    expect(fence.terminated).toEqual([]);
    expect(fence.disconnected.sort()).toEqual(pids.sort());
    await expect(optedOut.query('insert into t values (1)')).rejects.toThrow();
    await optedOut.end().catch(() => undefined);
    await idle.end().catch(() => undefined);
    expect(await walsenders(dr)).toEqual(walsender);

    const verified = await verifyWritesRefused(dr);
    expect(verified).toMatchObject({ sqlstate: '25006', database: dr.connection.database, user: dr.connection.user });
    expect(verified.refusal).toMatch(/read-only transaction/);
    expect(JSON.stringify(verified)).not.toContain(dr.connection.password ?? 'no password');
    expect(await withClient(admin(dr), async (c) => Number((await c.query<{ n: string }>('select count(*)::text n from t')).rows[0]!.n)).catch(() => -1)).toBe(0);
  });

  it('negative control: a per-database value that overrides the fence makes the check fail (DR_FENCE_NOT_HOLDING)', async () => {
    const name = dr.connection.database;
    // ALTER DATABASE is itself refused under the fence: set it before fencing.
    await unfence(dr);
    await withClient(admin(dr), (c) => c.query(`alter database ${pg.escapeIdentifier(name)} set default_transaction_read_only = off`));
    try {
      await fenceWrites(dr, 500, new AbortController().signal);
      await expect(verifyWritesRefused(dr)).rejects.toMatchObject({ code: 'DR_FENCE_NOT_HOLDING', message: expect.stringContaining(`ALTER DATABASE ${name}`) });
    } finally {
      await unfence(dr);
      await withClient(admin(dr), (c) => c.query(`alter database ${pg.escapeIdentifier(name)} reset default_transaction_read_only`));
    }
  });
});
