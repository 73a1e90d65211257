import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startClock } from '../../src/engine/clock.js';
import { ResourceLedger } from '../../src/engine/resource-ledger.js';
import { NativeDeployment } from '../../src/targets/postgres/native-deployment.js';
import { createRestorePoint } from '../../src/targets/postgres/restore-point.js';
import type { BaseBackup, PgInstance } from '../../src/targets/postgres/types.js';
import { withClient } from '../../src/targets/postgres/with-client.js';

let deployment: NativeDeployment | undefined;
let backup: BaseBackup;
const db = (i: PgInstance) => ({ ...i.connection, database: 'postgres' });
const count = (i: PgInstance) =>
  withClient(db(i), async (c) => Number((await c.query<{ n: string }>('select count(*)::text n from t')).rows[0]!.n));

beforeAll(async () => {
  deployment = await NativeDeployment.create({ runId: 'test-native', clock: startClock(), ledger: new ResourceLedger(undefined) }, (d) => (deployment = d));
  await withClient(db(deployment.primary), (c) => c.query('create table t(id int primary key); insert into t select generate_series(1, 100)'));
  backup = await deployment.takeBaseBackup(deployment.primary);
});

afterAll(async () => {
  const root = deployment ? path.dirname(deployment.archiveDir) : undefined;
  await deployment?.dispose();
  if (root) expect(() => readdirSync(root)).toThrow();
});

describe('native PostgreSQL deployment (real servers)', () => {
  it('runs with data checksums and WAL archiving', async () => {
    const settings = await withClient(db(deployment!.primary), async (c) =>
      (await c.query<{ name: string; setting: string }>(
        "select name, setting from pg_settings where name in ('data_checksums', 'archive_mode', 'wal_level') order by name",
      )).rows.map((r) => `${r.name}=${r.setting}`),
    );
    expect(settings).toEqual(['archive_mode=on', 'data_checksums=on', 'wal_level=replica']);
  });

  it('verifies a good backup with pg_verifybackup and rejects a tampered one', async () => {
    expect((await deployment!.verifyBackup(backup)).ok).toBe(true);
    const copy = await deployment!.takeBaseBackup(deployment!.primary);
    writeFileSync(path.join(copy.dir, 'PG_VERSION'), '99\n');
    const result = await deployment!.verifyBackup(copy);
    expect(result.ok).toBe(false);
    expect(result.output).toMatch(/PG_VERSION/);
  });

  it('restores to a named restore point, replaying archived WAL, and promotes', async () => {
    await withClient(db(deployment!.primary), (c) => c.query('insert into t select generate_series(101, 150)'));
    await createRestorePoint(db(deployment!.primary), 'test-point');
    await withClient(db(deployment!.primary), (c) => c.query('insert into t select generate_series(151, 200)'));
    await withClient(db(deployment!.primary), (c) => c.query('select pg_switch_wal()'));
    const restored = await deployment!.restore(backup, 'at-point', { kind: 'name', name: 'test-point' });
    await waitWritable(restored);
    expect(await count(restored)).toBe(150);
    await restored.stop();
  });

  it('restores the base backup alone, without the writes after it', async () => {
    const restored = await deployment!.restore(backup, 'backup-only', 'backup-only');
    await waitWritable(restored);
    expect(await count(restored)).toBe(100);
    await restored.stop();
  });

  it('fails clearly when the recovery target lies beyond the archive', async () => {
    await expect(deployment!.restore(backup, 'too-far', { kind: 'lsn', lsn: 'FF/0' })).rejects.toMatchObject({
      code: 'PITR_TARGET_NOT_REACHED',
      message: expect.stringMatching(/archive ends before it/),
    });
  });

  it('kill() crashes the server and start() recovers it', async () => {
    const primary = deployment!.primary;
    await primary.kill();
    expect(await primary.isRunning()).toBe(false);
    await primary.start();
    expect(await count(primary)).toBe(200);
  });
});

async function waitWritable(instance: PgInstance): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const rec = await withClient(db(instance), async (c) => (await c.query<{ r: boolean }>('select pg_is_in_recovery() r')).rows[0]!.r);
    if (!rec) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${instance.name} stayed in recovery`);
}
