import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startClock } from '../../src/engine/clock.js';
import { ResourceLedger } from '../../src/engine/resource-ledger.js';
import { NativeDeployment } from '../../src/targets/postgres/native-deployment.js';
import type { NativeInstance } from '../../src/targets/postgres/native-instance.js';
import { runCommand } from '../../src/targets/process/run-command.js';
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

  it('requires the per-run password over TCP, for replication and on the socket; no rule trusts anyone', async () => {
    const primary = deployment!.primary as NativeInstance;
    const { port, password } = primary.connection;
    expect(password).toMatch(/^[A-Za-z0-9_-]{32}$/);
    await expect(withClient({ ...db(primary), password: undefined }, (c) => c.query('select 1'))).rejects.toThrow(/password/);
    await expect(withClient({ ...db(primary), password: 'not-the-password' }, (c) => c.query('select 1'))).rejects.toThrow(
      /password authentication failed/,
    );
    // libpq programs with no password to find (-w: never prompt): psql over TCP and over the Unix
    // socket, and a replication connection.
    const bin = (tool: string) => deployment!.binaries.path(tool);
    const noPassword = { env: { PGPASSFILE: '/nonexistent' }, okCodes: [0, 1, 2] };
    const refused = async (file: string, args: string[]) => {
      const result = await runCommand(file, args, noPassword);
      expect(result.code, `${file} ${args.join(' ')}`).not.toBe(0);
      expect(result.stderr).toMatch(/no password supplied|password authentication failed/);
    };
    await refused(bin('psql'), ['-w', '-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-c', 'select 1']);
    await refused(bin('psql'), ['-w', '-h', primary.socketDir, '-p', String(port), '-U', 'postgres', '-c', 'select 1']);
    await refused(bin('pg_basebackup'), ['-w', '-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-D', path.join(os.tmpdir(), `never-${port}`)]);
    // Positive control: the same psql with the password gets in.
    const allowed = await runCommand(bin('psql'), ['-w', '-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-Atc', 'select 42'], {
      env: { PGPASSWORD: password! },
    });
    expect(allowed.stdout.trim()).toBe('42');
    // Restores start from the base backup's copy of pg_hba.conf: the same rules.
    for (const hba of [path.join(primary.dataDir, 'pg_hba.conf'), path.join(backup.dir, 'pg_hba.conf')]) {
      const rules = readFileSync(hba, 'utf8').split('\n').filter((line) => /^\s*(local|host)/.test(line));
      expect(rules.length).toBeGreaterThan(3);
      expect(rules.filter((rule) => !/scram-sha-256\s*$/.test(rule))).toEqual([]);
      expect(rules.some((rule) => /^host\s+replication/.test(rule))).toBe(true);
    }
    // The socket and the pgpass file sit in a directory only the PostgreSQL user (and root) can enter.
    const root = path.resolve(deployment!.archiveDir, '../..');
    expect(statSync(root).mode & 0o777).toBe(0o700);
    expect(statSync(path.join(root, 'pgpass')).mode & 0o777).toBe(0o600);
    expect(statSync(root).uid).toBe(statSync(primary.dataDir).uid);
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
