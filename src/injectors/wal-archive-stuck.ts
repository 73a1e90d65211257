import path from 'node:path';
import createDebug from 'debug';
import type { DrillContext, FaultHandle } from '../engine/drill-context.js';
import { EnvironmentError } from '../engine/errors.js';
import { requireDrillTarget } from '../engine/require-drill-target.js';
import type { Fault } from '../scenario/schema.js';
import { withClient } from '../targets/postgres/with-client.js';
import { walVolumeOf, writeWalUntilRefused } from './wal-until-full.js';

const debug = createDebug('drill:inject');

type WalArchiveStuck = Extract<Fault, { type: 'wal-archive-stuck' }>;

/** The archiver retries a failed segment within seconds of a reload or a new segment. */
const ARCHIVE_FAIL_WAIT_MS = 20_000;

/**
 * WAL archiving breaks (the archive's destination is gone: `archive_command` copies into a
 * directory that does not exist) and WAL piles up on the primary's WAL volume: a segment that is
 * not archived is never removed or recycled. The injector writes WAL (as a busy workload would,
 * faster) until the volume is full and PostgreSQL PANICs, as disk-full does. The archive command
 * is changed with ALTER SYSTEM, so a restart alone does not repair it. T_fault is the outage: the
 * start of the last write that still succeeded; when archiving started failing is in the details.
 */
export async function injectWalArchiveStuck(ctx: DrillContext, fault: WalArchiveStuck): Promise<FaultHandle> {
  requireDrillTarget(ctx, 'wal-archive-stuck');
  const instance = ctx.router.current;
  const volume = walVolumeOf(instance, 'wal-archive-stuck');
  // Inside the drill's temp directory, and never created: cp fails "No such file or directory".
  const gone = path.join(path.dirname(volume.path), 'archive-unreachable');
  const command = `test ! -f '${gone}/%f' && cp '%p' '${gone}/%f'`;
  const connection = { ...instance.connection, database: 'postgres' };
  const before = await withClient(connection, async (c) => {
    const stats = (await c.query<{ failed_count: string }>('select failed_count from pg_stat_archiver')).rows[0]!;
    await c.query(`alter system set archive_command = '${command.replace(/'/g, "''")}'`);
    await c.query('select pg_reload_conf()');
    return { failedCount: Number(stats.failed_count) };
  });
  const brokenAt = ctx.clock.now();
  // Seen failing: a completed segment the archiver could not copy.
  const failing = await withClient(connection, async (c) => {
    const until = Date.now() + ARCHIVE_FAIL_WAIT_MS;
    await c.query("select pg_logical_emit_message(true, 'drill-archive-stuck', 'x'), pg_switch_wal()");
    for (;;) {
      const row = (await c.query<{ failed_count: string; last_failed_wal: string | null }>('select failed_count, last_failed_wal from pg_stat_archiver')).rows[0]!;
      if (Number(row.failed_count) > before.failedCount) return { lastFailedWal: row.last_failed_wal };
      if (Date.now() > until) return undefined;
      await new Promise((r) => setTimeout(r, 200));
    }
  });
  if (!failing) {
    await resetArchiveCommand(connection);
    throw new EnvironmentError('ARCHIVE_NOT_FAILING', `${instance.name}'s archiver did not report a failure within ${ARCHIVE_FAIL_WAIT_MS / 1000} s of archive_command pointing at ${gone}; archive_command was reset`);
  }
  const full = await writeWalUntilRefused(ctx, instance, ctx.clock.now() + fault.failWithin);
  if (!full) {
    await resetArchiveCommand(connection);
    throw new EnvironmentError(
      'DISK_FULL_NOT_IN_EFFECT',
      `${instance.name} still accepted writes ${fault.failWithin / 1000} s after archiving was broken; archive_command was reset. Check that pg_wal is on the volume (targets.postgres.walVolume)`,
    );
  }
  debug('%s: archiving broken, WAL volume full after %d writes: %s', instance.name, full.writes, full.serverLog ?? full.firstFailedWrite);
  return {
    description: `WAL archiving stuck on ${instance.name} (archive_command fails: ${gone} is gone); pg_wal filled its volume${full.serverLog ? `: ${full.serverLog}` : ''}${full.serverStopped ? '; the server shut down' : ''}`,
    details: {
      instance: instance.name,
      volume: volume.path,
      archiveCommand: command,
      archivingBrokenAt: brokenAt,
      lastFailedWal: failing.lastFailedWal,
      volumeUsage: volume.usage(),
      writesBeforeFailure: full.writes,
      firstFailedWrite: full.firstFailedWrite,
      serverLog: full.serverLog,
      serverStopped: full.serverStopped,
      serverLogTail: full.serverLogTail,
    },
    inEffectAt: full.lastWriteOkAt ?? brokenAt,
    // Put back only if recovery did not and the server runs; the deployment goes at teardown anyway.
    async [Symbol.asyncDispose]() {
      if (await instance.isRunning()) await resetArchiveCommand(connection).catch(() => undefined);
    },
  };
}

async function resetArchiveCommand(connection: Parameters<typeof withClient>[0]): Promise<void> {
  await withClient(connection, async (c) => {
    await c.query('alter system reset archive_command');
    await c.query('select pg_reload_conf()');
  });
}
