import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DrillContext, RestorePoint } from '../../src/engine/drill-context.js';
import { injectFatFinger } from '../../src/injectors/pg-fat-finger.js';
import { pitrRestore, resolveTarget } from '../../src/recovery/pitr-restore.js';
import type { RecoveryTarget } from '../../src/scenario/schema.js';
import type { PgInstance } from '../../src/targets/postgres/types.js';
import { tableFacts } from '../../src/workload/dataset.js';
import { drillDatabase, sql, type DrillDatabase } from '../injectors/helpers.js';

/**
 * Point-in-time recovery to "just before the fault" by each kind of target PostgreSQL offers,
 * end to end: a base backup, a fat-finger DELETE, then a restore from the archive that must give
 * back exactly the data as it was before the DELETE.
 */
let db: DrillDatabase;
let snapshot: Awaited<ReturnType<typeof tableFacts>>;
let point: RestorePoint;
const restoredFacts = (instance: PgInstance) => tableFacts({ ...instance.connection, database: 'drill' });

async function restoreTo(target: RecoveryTarget, verify = false): Promise<{ output: Record<string, unknown>; instance: PgInstance }> {
  const output = await pitrRestore(db.ctx, { step: 'pitr-restore', target, backup: 'before-fault', verify, timeout: 120_000 });
  return { output, instance: db.ctx.recoveredInstances.at(-1)! };
}

beforeAll(async () => {
  db = await drillDatabase('test-pitr-targets');
  await db.deployment.takeBaseBackup(db.deployment.primary);
  // Written after the backup: a restore that stopped too early (at the backup's end) would miss it.
  await sql(db.deployment.primary, "update accounts set owner = owner || ' (renamed after the backup)' where id = 1");
  snapshot = await tableFacts(db.router.connection);
  await injectFatFinger(db.ctx, { type: 'pg-fat-finger', statement: 'delete', table: 'transfers' });
  expect((await tableFacts(db.router.connection)).transfers!.rows).toBe(0);
  point = db.ctx.restorePoints.get('before-fault')!;
});
afterAll(async () => {
  await db?.dispose();
});

describe('pitr-restore targets, end to end (real PostgreSQL, archived WAL)', () => {
  const cases: Array<[string, () => RecoveryTarget]> = [
    ['before-fault (the restore point)', () => 'before-fault'],
    ['{ time: before-fault }', () => ({ time: 'before-fault' })],
    ['{ xid: before-fault }', () => ({ xid: 'before-fault' })],
    ['{ lsn: before-fault }', () => ({ lsn: 'before-fault' })],
    ['{ name } of the restore point', () => ({ name: 'drill-before-fault' })],
    ['a literal { time }', () => ({ time: point.time! })],
  ];

  it.each(cases)('%s: the restored data equals the snapshot before the fault', async (_label, target) => {
    const { output, instance } = await restoreTo(target());
    try {
      expect(output).toMatchObject({ backup: 'backup-1', verification: 'not verified (verify: false)' });
      expect(await restoredFacts(instance)).toEqual(snapshot);
    } finally {
      await instance.stop();
    }
  });

  it('verify: the backup is checked with pg_verifybackup and the restored pages offline with pg_checksums', async () => {
    const { output, instance } = await restoreTo({ xid: 'before-fault' }, true);
    try {
      expect(output.verification).not.toMatch(/not verified/);
      expect(output.checksums).toMatchObject({ checked: true, badBlocks: [] });
      expect((output.checksums as { blocksScanned: number }).blocksScanned).toBeGreaterThan(0);
      expect(await instance.isRunning()).toBe(true);
      expect(await restoredFacts(instance)).toEqual(snapshot);
    } finally {
      await instance.stop();
    }
  });

  it('a target beyond the end of the archive fails the step clearly', async () => {
    await expect(restoreTo({ lsn: 'FF/0' })).rejects.toMatchObject({
      code: 'PITR_TARGET_NOT_REACHED',
      kind: 'check',
      message: expect.stringMatching(/archive ends before it/),
    });
  });
});

describe('resolveTarget', () => {
  const ctx = (point?: Partial<RestorePoint>) =>
    ({ restorePoints: new Map(point ? [['before-fault', { name: 'p', lsn: '0/1', t: 1, ...point }]] : []) }) as unknown as DrillContext;

  it('turns before-fault into what the fault recorded, and passes literals through', () => {
    const c = ctx({ xid: '42', time: '2025-09-21 12:00:00.000000+00' });
    expect(resolveTarget(c, 'before-fault')).toEqual({ kind: 'name', name: 'p' });
    expect(resolveTarget(c, { time: 'before-fault' })).toEqual({ kind: 'time', time: '2025-09-21 12:00:00.000000+00' });
    expect(resolveTarget(c, { xid: 'before-fault' })).toEqual({ kind: 'xid', xid: '42' });
    expect(resolveTarget(c, { lsn: 'before-fault' })).toEqual({ kind: 'lsn', lsn: '0/1' });
    expect(resolveTarget(c, { lsn: '0/5' })).toEqual({ kind: 'lsn', lsn: '0/5' });
    expect(resolveTarget(c, 'latest')).toEqual({ kind: 'latest' });
  });

  it('says what to do when the fault recorded no such point', () => {
    expect(() => resolveTarget(ctx(), 'before-fault')).toThrow(expect.objectContaining({ code: 'NO_BEFORE_FAULT_POINT' }));
    expect(() => resolveTarget(ctx({}), { xid: 'before-fault' })).toThrow(/recorded no xid before it/);
  });
});
