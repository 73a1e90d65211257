import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { injectLinePointerCorruption } from '../../src/injectors/pg-line-pointer-corruption.js';
import { checkChecksumsOffline } from '../../src/recovery/offline-checksums.js';
import { withClient } from '../../src/targets/postgres/with-client.js';
import { runAmcheck } from '../../src/workload/amcheck.js';
import { checksumFailures, drillDatabase, queryError, sql, type DrillDatabase } from './helpers.js';

let db: DrillDatabase;
const count = async () => Number((await sql<{ n: string }>(db.deployment.primary, 'select count(*)::text as n from transfers'))[0]!.n);
const amcheck = () => withClient(db.router.connection, (c) => runAmcheck(c));

beforeAll(async () => {
  db = await drillDatabase('test-line-pointers');
  // Frozen and all-visible: nothing (autovacuum, hint bits) has a reason to rewrite the pages.
  await sql(db.deployment.primary, 'vacuum (freeze, analyze) transfers');
});
afterAll(async () => {
  await db?.dispose();
});

describe('pg-line-pointer-corruption (real PostgreSQL)', () => {
  it('rows silently vanish, checksums see nothing, amcheck names each bad line pointer; dispose puts them back', async () => {
    const before = await count();
    const handle = await injectLinePointerCorruption(db.ctx, { type: 'pg-line-pointer-corruption', table: 'transfers', block: 1, items: [1, 2, 5], fixChecksum: true });
    expect(handle.details).toMatchObject({ block: 1, items: [1, 2, 5], checksumFixed: true });
    expect(db.ctx.restorePoints.get('before-fault')).toMatchObject({ name: 'drill-before-fault' });

    // The read path does not complain: three rows are just gone.
    expect(await count()).toBe(before - 3);
    expect(await checksumFailures(db.deployment.primary)).toBe(0);
    const findings = (await amcheck()).filter((f) => f.relation === 'transfers');
    expect(findings).toHaveLength(3);
    for (const f of findings) {
      expect(f).toMatchObject({ kind: 'heap', block: 1 });
      expect(f.message).toMatch(/line pointer redirection to item at offset \d+ exceeds maximum offset \d+/);
    }
    // The fixed-up checksum is one PostgreSQL's own offline checker accepts.
    const offline = await checkChecksumsOffline(db.deployment.primary);
    expect(offline).toMatchObject({ checked: true, badBlocks: [] });

    await handle[Symbol.asyncDispose]();
    expect(await db.deployment.primary.isRunning()).toBe(true);
    expect(await count()).toBe(before);
    expect(await amcheck()).toEqual([]);
  });

  it('fixChecksum: false: every read of the page fails instead, amcheck names the block; dispose repairs it', async () => {
    const handle = await injectLinePointerCorruption(db.ctx, { type: 'pg-line-pointer-corruption', table: 'transfers', block: 2, items: [1], fixChecksum: false });
    expect(handle.details).toMatchObject({ checksumFixed: false });
    expect(await queryError(db.deployment.primary, 'select count(*) from transfers')).toMatch(/invalid page in block 2/);
    const findings = (await amcheck()).filter((f) => f.relation === 'transfers');
    expect(findings.map((f) => f.block)).toEqual([2]);

    await handle[Symbol.asyncDispose]();
    expect(await queryError(db.deployment.primary, 'select count(*) from transfers')).toBeUndefined();
    expect(await amcheck()).toEqual([]);
  });

  it('refuses a line pointer the page does not have, and leaves the server running', async () => {
    await expect(
      injectLinePointerCorruption(db.ctx, { type: 'pg-line-pointer-corruption', table: 'transfers', block: 0, items: [9999], fixChecksum: true }),
    ).rejects.toMatchObject({ code: 'FAULT_ITEM_OUT_OF_RANGE', message: expect.stringMatching(/has \d+ line pointers; items 9999 do not exist/) });
    await expect(
      injectLinePointerCorruption(db.ctx, { type: 'pg-line-pointer-corruption', table: 'no_such_table', block: 0, items: [1], fixChecksum: true }),
    ).rejects.toMatchObject({ code: 'FAULT_TABLE_UNKNOWN' });
    expect(await db.deployment.primary.isRunning()).toBe(true);
    expect(await amcheck()).toEqual([]);
  });
});
