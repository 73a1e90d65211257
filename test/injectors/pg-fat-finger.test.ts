import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { injectFatFinger } from '../../src/injectors/pg-fat-finger.js';
import { withClient } from '../../src/targets/postgres/with-client.js';
import { runAmcheck } from '../../src/workload/amcheck.js';
import { tableFacts } from '../../src/workload/dataset.js';
import { drillDatabase, sql, type DrillDatabase } from './helpers.js';

let db: DrillDatabase;
const facts = () => tableFacts(db.router.connection);

beforeAll(async () => {
  db = await drillDatabase('test-fat-finger');
});
afterAll(async () => {
  await db?.dispose();
});

describe('pg-fat-finger (real PostgreSQL)', () => {
  it('DELETE without WHERE: rows gone, amcheck sees nothing, before-fault has time, xid, LSN and name; dispose writes the rows back', async () => {
    const before = await facts();
    const handle = await injectFatFinger(db.ctx, { type: 'pg-fat-finger', statement: 'delete', table: 'transfers' });
    expect(handle.details).toMatchObject({ statement: 'delete from "transfers"', rows: before.transfers!.rows });
    expect((await facts()).transfers!.rows).toBe(0);
    // Logical damage: physically everything is sound.
    expect(await withClient(db.router.connection, (c) => runAmcheck(c))).toEqual([]);

    const point = db.ctx.restorePoints.get('before-fault')!;
    expect(point).toMatchObject({ name: 'drill-before-fault', lsn: expect.stringMatching(/^[0-9A-F]+\/[0-9A-F]+$/), xid: expect.stringMatching(/^\d+$/) });
    expect(point.time).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}\+00$/);
    // The recorded xid committed before the fault's own transaction.
    expect(BigInt(point.xid!)).toBeLessThan(BigInt(handle.details.faultXid as string));
    // Its WAL segment is already in the archive, so a restore right away can reach it.
    const archived = await sql<{ archived: boolean }>(db.deployment.primary, 'select last_archived_wal >= pg_walfile_name($1::pg_lsn) as archived from pg_stat_archiver', [point.lsn]);
    expect(archived).toEqual([{ archived: true }]);

    await handle[Symbol.asyncDispose]();
    expect(await facts()).toEqual(before);
  });

  it('UPDATE without WHERE on a table others reference: values gone; dispose restores them by primary key, even on a read-only instance', async () => {
    const before = await facts();
    const handle = await injectFatFinger(db.ctx, { type: 'pg-fat-finger', statement: 'update', table: 'accounts', set: 'balance = 0' });
    const after = await facts();
    expect(after.accounts!.rows).toBe(before.accounts!.rows);
    expect(after.accounts!.checksum).not.toBe(before.accounts!.checksum);
    expect(await sql(db.deployment.primary, 'select 1 from accounts where balance <> 0')).toEqual([]);

    // What stop-writes leaves behind.
    await sql(db.deployment.primary, 'alter system set default_transaction_read_only = on');
    await sql(db.deployment.primary, 'select pg_reload_conf()');
    try {
      await handle[Symbol.asyncDispose]();
    } finally {
      await withClient({ ...db.router.connection, database: 'postgres' }, async (c) => {
        await c.query('set default_transaction_read_only = off');
        await c.query('alter system reset default_transaction_read_only');
        await c.query('select pg_reload_conf()');
      });
    }
    expect(await facts()).toEqual(before);
  });

  it('a DELETE the foreign keys refuse is not a fault in effect: typed error, nothing changed', async () => {
    const before = await facts();
    await expect(injectFatFinger(db.ctx, { type: 'pg-fat-finger', statement: 'delete', table: 'accounts' })).rejects.toMatchObject({
      code: 'FAT_FINGER_REFUSED',
      message: expect.stringMatching(/violates foreign key constraint/),
    });
    await expect(injectFatFinger(db.ctx, { type: 'pg-fat-finger', statement: 'delete', table: 'nope' })).rejects.toMatchObject({ code: 'FAULT_TABLE_UNKNOWN' });
    expect(await facts()).toEqual(before);
  });
});
