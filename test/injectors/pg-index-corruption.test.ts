import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { injectIndexCorruption } from '../../src/injectors/pg-index-corruption.js';
import { assessCorruption } from '../../src/recovery/assess-corruption.js';
import type { CorruptionExtent } from '../../src/recovery/corruption-extent.js';
import { checkChecksumsOffline } from '../../src/recovery/offline-checksums.js';
import { reindex } from '../../src/recovery/reindex.js';
import { withClient } from '../../src/targets/postgres/with-client.js';
import { runAmcheck } from '../../src/workload/amcheck.js';
import { checksumFailures, drillDatabase, queryError, sql, type DrillDatabase } from './helpers.js';

let db: DrillDatabase;
const primary = () => db.deployment.primary;
const amcheck = () => withClient(db.router.connection, (c) => runAmcheck(c));
const seqScanTotals = () =>
  withClient(db.router.connection, async (c) => {
    await c.query('set enable_indexscan = off; set enable_indexonlyscan = off; set enable_bitmapscan = off');
    return (await c.query<{ n: string; total: string }>('select count(*)::text as n, sum(amount)::text as total from transfers')).rows[0];
  });
/** Ids an index lookup cannot find (each looked up through transfers_pkey). */
const idsTheIndexMisses = () =>
  withClient(db.router.connection, async (c) => {
    await c.query('set enable_seqscan = off; set enable_bitmapscan = off; set enable_hashjoin = off; set enable_mergejoin = off');
    const { rows } = await c.query<{ id: string }>(
      'select g::text as id from generate_series(1, (select max(id) from transfers)) g where not exists (select 1 from transfers t where t.id = g) order by g',
    );
    return rows.map((r) => Number(r.id));
  });

beforeAll(async () => {
  db = await drillDatabase('test-index-corruption');
});
afterAll(async () => {
  await db?.dispose();
});

describe('pg-index-corruption (real PostgreSQL)', () => {
  it('two swapped index tuples: sequential scans see nothing, lookups miss a row, only amcheck reports it; dispose reverts', async () => {
    const before = await seqScanTotals();
    expect(await idsTheIndexMisses()).toEqual([]);
    const handle = await injectIndexCorruption(db.ctx, { type: 'pg-index-corruption', index: 'transfers_pkey', fixChecksum: true });
    expect(handle.details).toMatchObject({ index: 'transfers_pkey', checksumFixed: true });
    const block = handle.details.block as number;
    expect(block).toBeGreaterThan(0);

    expect(await seqScanTotals()).toEqual(before);
    expect(await queryError(primary(), 'select count(*), sum(amount) from transfers')).toBeUndefined();
    // The binary search trusts the order: the smaller of the two swapped keys is not found.
    expect((await idsTheIndexMisses()).length).toBeGreaterThan(0);

    expect(await checksumFailures(primary())).toBe(0);
    expect(await checkChecksumsOffline(primary())).toMatchObject({ checked: true, badBlocks: [] });
    const findings = (await amcheck()).filter((f) => f.relation === 'transfers_pkey');
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ kind: 'btree', block });
    expect(findings[0]!.message).toMatch(/item order invariant violated for index "transfers_pkey"/);

    const extent = (await assessCorruption(db.ctx)).extent as CorruptionExtent;
    expect(extent.damaged).toEqual([
      expect.objectContaining({ relation: 'transfers_pkey', kind: 'index', table: 'transfers', damagedBlocks: [block], repair: 'reindex', fileMissing: false }),
    ]);
    expect(extent.summary).toMatch(new RegExp(`index transfers_pkey on transfers: 1 problem \\(block ${block} of \\d+\\)`));

    await handle[Symbol.asyncDispose]();
    expect(await amcheck()).toEqual([]);
    expect(await idsTheIndexMisses()).toEqual([]);
  });

  it('reindex rebuilds what amcheck reports and checks it; the fault handle then has nothing left to revert', async () => {
    const handle = await injectIndexCorruption(db.ctx, { type: 'pg-index-corruption', index: 'transfers_pkey', fixChecksum: true });
    expect((await amcheck()).map((f) => f.relation)).toEqual(['transfers_pkey']);

    const output = await reindex(db.ctx, { step: 'reindex', concurrently: false, timeout: 60_000 });
    expect(output).toMatchObject({ chosenBy: 'amcheck', rebuilt: [expect.objectContaining({ index: 'transfers_pkey' })] });
    expect(await amcheck()).toEqual([]);
    expect(await idsTheIndexMisses()).toEqual([]);

    // The rebuilt index lives in a new file; the old one is empty, so there is nothing to put back.
    await handle[Symbol.asyncDispose]();
    expect(await amcheck()).toEqual([]);
  });

  it('fixChecksum: false: index reads fail on the page, sequential scans still work', async () => {
    const handle = await injectIndexCorruption(db.ctx, { type: 'pg-index-corruption', index: 'transfers_to_idx', fixChecksum: false });
    const block = handle.details.block as number;
    const findings = (await amcheck()).filter((f) => f.relation === 'transfers_to_idx');
    expect(findings.map((f) => f.block)).toEqual([block]);
    expect(findings[0]!.message).toMatch(new RegExp(`invalid page in block ${block}`));
    expect(await seqScanTotals()).toBeDefined();
    await handle[Symbol.asyncDispose]();
    expect(await amcheck()).toEqual([]);
  });

  it('reindex of a named index that does not exist fails the step with what to fix', async () => {
    await expect(reindex(db.ctx, { step: 'reindex', indexes: ['nope_idx'], concurrently: true, timeout: 60_000 })).rejects.toMatchObject({
      code: 'INDEX_UNKNOWN',
      message: expect.stringMatching(/no B-tree index "nope_idx"/),
    });
    await expect(injectIndexCorruption(db.ctx, { type: 'pg-index-corruption', index: 'transfers', fixChecksum: true })).rejects.toMatchObject({ code: 'FAULT_INDEX_UNKNOWN' });
    expect(await sql(primary(), 'select 1')).toHaveLength(1);
  });
});
