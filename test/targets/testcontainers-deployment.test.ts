import { afterAll, describe, expect, it } from 'vitest';
import { startClock } from '../../src/engine/clock.js';
import { dockerEngineAnswers } from '../../src/targets/docker-available.js';
import { createRestorePoint } from '../../src/targets/postgres/restore-point.js';
import type { TestcontainersDeployment } from '../../src/targets/postgres/testcontainers-deployment.js';
import type { PgInstance } from '../../src/targets/postgres/types.js';
import { withClient } from '../../src/targets/postgres/with-client.js';

// DESIGN.md section 5: no Docker engine on the CI machines; the container settings themselves are
// covered without Docker by testcontainers-config.test.ts.
const docker = await dockerEngineAnswers();
const SKIP = docker ? '' : ' (skipped: no Docker engine answers on this machine)';

let deployment: TestcontainersDeployment | undefined;
const count = (i: PgInstance) =>
  withClient(i.connection, async (c) => Number((await c.query<{ n: string }>('select count(*)::text n from t')).rows[0]!.n));

async function waitWritable(i: PgInstance): Promise<void> {
  for (let n = 0; n < 100; n++) {
    const inRecovery = await withClient(i.connection, async (c) => (await c.query('select pg_is_in_recovery() r')).rows[0].r as boolean).catch(() => true);
    if (!inRecovery) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${i.name} did not leave recovery`);
}

afterAll(async () => {
  await deployment?.dispose();
});

describe('testcontainers PostgreSQL deployment (real container)', () => {
  it.skipIf(!docker)(`starts a primary with checksums and archiving, backs up, verifies, restores to a point and survives a kill${SKIP}`, async () => {
    const { TestcontainersDeployment } = await import('../../src/targets/postgres/testcontainers-deployment.js');
    deployment = await TestcontainersDeployment.create({ runId: 'test-tc', clock: startClock() }, (d) => (deployment = d));
    const pg = deployment;
    expect(pg.primary.dataDir).toBeUndefined();
    const settings = await withClient(pg.primary.connection, async (c) =>
      (await c.query<{ name: string; setting: string }>(
        "select name, setting from pg_settings where name in ('data_checksums', 'archive_mode', 'wal_level') order by name",
      )).rows.map((r) => `${r.name}=${r.setting}`),
    );
    expect(settings).toEqual(['archive_mode=on', 'data_checksums=on', 'wal_level=replica']);

    await withClient(pg.primary.connection, (c) => c.query('create table t(id int primary key); insert into t select generate_series(1, 100)'));
    const backup = await pg.takeBaseBackup(pg.primary);
    expect((await pg.verifyBackup(backup)).ok).toBe(true);
    await withClient(pg.primary.connection, (c) => c.query('insert into t select generate_series(101, 150)'));
    await createRestorePoint(pg.primary.connection, 'tc-point');
    await withClient(pg.primary.connection, (c) => c.query('insert into t select generate_series(151, 200); select pg_switch_wal()'));

    const restored = await pg.restore(backup, 'at-point', { kind: 'name', name: 'tc-point' });
    await waitWritable(restored);
    expect(await count(restored)).toBe(150);

    await pg.primary.kill();
    expect(await pg.primary.isRunning()).toBe(false);
    await pg.primary.start();
    expect(await count(pg.primary)).toBe(200);
    const archiving = await withClient(pg.primary.connection, async (c) => (await c.query('show archive_mode')).rows[0].archive_mode as string);
    expect(archiving).toBe('on');
  });
});
