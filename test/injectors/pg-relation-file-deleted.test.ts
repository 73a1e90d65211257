import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { injectRelationFileDeleted } from '../../src/injectors/pg-relation-file-deleted.js';
import { assessCorruption } from '../../src/recovery/assess-corruption.js';
import type { CorruptionExtent } from '../../src/recovery/corruption-extent.js';
import { withClient } from '../../src/targets/postgres/with-client.js';
import { runAmcheck } from '../../src/workload/amcheck.js';
import { tableFacts } from '../../src/workload/dataset.js';
import { drillDatabase, queryError, type DrillDatabase } from './helpers.js';

let db: DrillDatabase;

beforeAll(async () => {
  db = await drillDatabase('test-file-deleted');
});
afterAll(async () => {
  await db?.dispose();
});

describe('pg-relation-file-deleted (real PostgreSQL)', () => {
  it('every read of the table fails with "could not open file", the extent report says the file is missing; dispose puts it back', async () => {
    const before = await tableFacts(db.router.connection);
    const handle = await injectRelationFileDeleted(db.ctx, { type: 'pg-relation-file-deleted', table: 'transfers' });
    const file = path.join(db.deployment.primary.dataDir, handle.details.file as string);
    expect(existsSync(file)).toBe(false);
    expect(await db.deployment.primary.isRunning()).toBe(true);

    expect(await queryError(db.deployment.primary, 'select count(*) from transfers')).toMatch(/could not open file ".*": No such file or directory/);
    // The rest of the database is untouched.
    expect(await queryError(db.deployment.primary, 'select count(*) from accounts')).toBeUndefined();

    const findings = await withClient(db.router.connection, (c) => runAmcheck(c));
    expect(findings.filter((f) => f.relation === 'transfers').map((f) => f.message)).toEqual([expect.stringMatching(/could not open file/)]);
    const assessed = await assessCorruption(db.ctx);
    const extent = assessed.extent as CorruptionExtent;
    expect(extent.damaged.find((d) => d.relation === 'transfers')).toMatchObject({ kind: 'table', fileMissing: true, repair: 'restore' });
    // Its indexes' amcheck errors name the table's file: they are placed on the table, not reported as damaged indexes.
    expect(extent.damaged.map((d) => d.relation)).toEqual(['transfers']);
    expect(extent.summary).toMatch(/^1 of \d+ relation\(s\) damaged: table transfers: data file missing$/);

    await handle[Symbol.asyncDispose]();
    expect(existsSync(file)).toBe(true);
    expect(await tableFacts(db.router.connection)).toEqual(before);
    expect(await withClient(db.router.connection, (c) => runAmcheck(c))).toEqual([]);
  });
});
