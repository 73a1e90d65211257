import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { withClient } from '../src/targets/postgres/with-client.js';
import { pgFixture, relationMegabytes } from './pg-fixture.js';
import { childEnvironment } from '../src/targets/process/child-environment.js';

export interface ProcedureResult {
  databaseMb: number;
  plainCopyMs: number;
  baseBackupMs: number;
  restoreBackupOnlyMs: number;
  walGeneratedBytes: number;
  pitrMs: number;
  walReplayMbPerS: number;
  restoreToCopyRatio: number;
  pitrToCopyRatio: number;
}

const timed = async <T>(fn: () => Promise<T>): Promise<[T, number]> => {
  const start = performance.now();
  const value = await fn();
  return [value, performance.now() - start];
};

/**
 * Wall time of each restore procedure on one database size, against the physical floor: a plain
 * `cp -a` of the base backup's data directory on the same disk, measured in the same run.
 */
export async function measureProcedures(megabytes: number): Promise<ProcedureResult> {
  const fixture = await pgFixture(`bench-${megabytes}mb`, megabytes);
  const { deployment } = fixture;
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'drill-bench-copy-'));
  try {
    const databaseMb = await relationMegabytes(fixture);
    const [backup, baseBackupMs] = await timed(() => deployment.takeBaseBackup(deployment.primary));
    // The floor: copying exactly the files a restore starts from, nothing more.
    const [, plainCopyMs] = await timed(async () => execFileSync('cp', ['-a', backup.dir, path.join(scratch, 'copy')], { env: childEnvironment() }));
    rmSync(path.join(scratch, 'copy'), { recursive: true, force: true });
    const [restored, restoreBackupOnlyMs] = await timed(() => deployment.restore(backup, 'bench-backup-only', 'backup-only'));
    await restored.stop();

    // WAL for replay: rewrite a fifth of the rows after the backup.
    const walGeneratedBytes = await withClient(deployment.primary.connection, async (c) => {
      const before = (await c.query<{ l: string }>('select pg_current_wal_lsn()::text l')).rows[0]!.l;
      await c.query('update bench set n = n + 1 where id % 5 = 0');
      await c.query("select pg_create_restore_point('bench-end')");
      await c.query('select pg_switch_wal()');
      const { rows } = await c.query<{ b: string }>('select pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn)::text b', [before]);
      return Number(rows[0]!.b);
    }, 3_600_000);
    // Let the archiver catch up so replay is not waiting on it.
    await new Promise((r) => setTimeout(r, 2000));
    const [pitr, pitrMs] = await timed(() => deployment.restore(backup, 'bench-pitr', { kind: 'name', name: 'bench-end' }));
    await pitr.stop();

    const replayMs = Math.max(1, pitrMs - restoreBackupOnlyMs);
    return {
      databaseMb: Math.round(databaseMb),
      plainCopyMs: Math.round(plainCopyMs),
      baseBackupMs: Math.round(baseBackupMs),
      restoreBackupOnlyMs: Math.round(restoreBackupOnlyMs),
      walGeneratedBytes,
      pitrMs: Math.round(pitrMs),
      walReplayMbPerS: Math.round((walGeneratedBytes / 1048576 / (replayMs / 1000)) * 10) / 10,
      restoreToCopyRatio: Math.round((restoreBackupOnlyMs / plainCopyMs) * 100) / 100,
      pitrToCopyRatio: Math.round((pitrMs / plainCopyMs) * 100) / 100,
    };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
    await deployment.dispose();
  }
}
