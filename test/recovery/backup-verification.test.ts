import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DrillContext, RestorePoint } from '../../src/engine/drill-context.js';
import { injectPageCorruption } from '../../src/injectors/pg-page-corruption.js';
import { chooseBackup } from '../../src/recovery/choose-backup.js';
import { restoreBaseBackup } from '../../src/recovery/restore-base-backup.js';
import { takeBaseBackup } from '../../src/recovery/take-base-backup.js';
import type { BaseBackup, PgInstance } from '../../src/targets/postgres/types.js';
import { withClient } from '../../src/targets/postgres/with-client.js';
import { runAmcheck } from '../../src/workload/amcheck.js';
import { tableFacts } from '../../src/workload/dataset.js';
import { drillDatabase, queryError, type DrillDatabase } from '../injectors/helpers.js';

/**
 * Backups of a damaged primary: pg_basebackup's checksum verification refuses to copy a damaged
 * page; without it the damage is copied, and restore verification (pg_checksums offline) is what
 * stops it reaching the application. `backup: before-fault` restores the good backup instead.
 */
let db: DrillDatabase;
let baseline: BaseBackup;
let snapshot: Awaited<ReturnType<typeof tableFacts>>;
const drill = (instance: PgInstance) => ({ ...instance.connection, database: 'drill' });
const restore = (options: { backup: 'newest' | 'before-fault'; verify: boolean; confirmDataLoss?: boolean }) =>
  restoreBaseBackup(db.ctx, { step: 'restore-base-backup', confirmDataLoss: options.confirmDataLoss ?? true, backup: options.backup, verify: options.verify, timeout: 120_000 });

beforeAll(async () => {
  db = await drillDatabase('test-backup-verification');
  baseline = await db.deployment.takeBaseBackup(db.deployment.primary);
  snapshot = await tableFacts(db.router.connection);
  await injectPageCorruption(db.ctx, { type: 'pg-page-corruption', table: 'transfers', blocks: [1] });
  expect(await queryError(db.deployment.primary, 'select count(*) from transfers')).toMatch(/invalid page in block 1/);
});
afterAll(async () => {
  await db?.dispose();
});

describe('take-base-backup and restore verification (real PostgreSQL)', () => {
  it('take-base-backup (verify: true) refuses to back up a page whose checksum fails', async () => {
    await expect(takeBaseBackup(db.ctx, { step: 'take-base-backup', verify: true, timeout: 60_000 })).rejects.toMatchObject({
      code: 'BACKUP_CHECKSUM_FAILURE',
      kind: 'check',
      message: expect.stringMatching(/found pages whose checksum fails.*checksum/s),
    });
    expect(db.deployment.listBackups().map((b) => b.id)).toEqual([baseline.id]);
    // pg_basebackup leaves its partial copy behind when the server refuses; the harness removes it.
    expect(existsSync(path.join(path.dirname(baseline.dir), 'backup-2'))).toBe(false);
  });

  it('verify: false copies the damage; restore verification refuses it; a restore without verification carries it', async () => {
    const taken = await takeBaseBackup(db.ctx, { step: 'take-base-backup', verify: false, timeout: 60_000 });
    expect(taken).toMatchObject({ pageChecksumsVerified: false, manifest: 'not verified (verify: false)' });

    await expect(restore({ backup: 'newest', verify: true })).rejects.toMatchObject({
      code: 'RESTORED_CHECKSUM_FAILURE',
      message: expect.stringMatching(new RegExp(`restored from ${taken.backup as string}, has 1 page\\(s\\) whose checksum fails \\(base/\\d+/\\d+ block 1\\).*backup: before-fault`)),
    });

    const output = await restore({ backup: 'newest', verify: false });
    expect(output).toMatchObject({ backup: taken.backup, verification: 'not verified (verify: false)', checksums: 'not verified (verify: false)' });
    const carried = db.ctx.recoveredInstances.at(-1)!;
    expect(await queryError(carried, 'select count(*) from transfers')).toMatch(/invalid page in block 1/);
    const findings = await withClient(drill(carried), (c) => runAmcheck(c));
    expect(findings.filter((f) => f.relation === 'transfers').map((f) => f.block)).toEqual([1]);
    await carried.stop();
  });

  it('backup: before-fault restores the good backup, verifies every page, and reports what the restore leaves behind', async () => {
    const output = await restore({ backup: 'before-fault', verify: true });
    expect(output).toMatchObject({ backup: baseline.id, checksums: { checked: true, badBlocks: [] } });
    const lost = output.lost as { walBytesNotRestored: number; writesAcknowledgedAfterBackup: number };
    expect(lost.walBytesNotRestored).toBeGreaterThan(0);
    const restored = db.ctx.recoveredInstances.at(-1)!;
    expect(await tableFacts(drill(restored))).toEqual(snapshot);
    expect(await withClient(drill(restored), (c) => runAmcheck(c))).toEqual([]);
    await restored.stop();
  });

  it('refuses without confirmed data loss, and when no backup is older than the fault', async () => {
    await expect(restore({ backup: 'before-fault', verify: false, confirmDataLoss: false })).rejects.toMatchObject({ code: 'DATA_LOSS_NOT_CONFIRMED' });
    const early: RestorePoint = { name: 'p', lsn: '0/1', t: -1 };
    const ctx = { ...db.ctx, restorePoints: new Map([['before-fault', early]]) } as DrillContext;
    await expect(chooseBackup(ctx, 'before-fault', false)).rejects.toMatchObject({ code: 'NO_BACKUP', message: expect.stringMatching(/all after it/) });
  });
});
