import createDebug from 'debug';
import type { DrillContext, FaultHandle } from '../engine/drill-context.js';
import { EnvironmentError } from '../engine/errors.js';
import { requireDrillTarget } from '../engine/require-drill-target.js';
import type { Fault } from '../scenario/schema.js';
import { DATA_ROW_BYTES, dataVolumeOf, withFillTable, writeRowsUntilRefused } from './data-until-full.js';
import { WAL_PER_WRITE, walVolumeOf, writeWalUntilRefused } from './wal-until-full.js';

const debug = createDebug('drill:inject');

type DiskFull = Extract<Fault, { type: 'disk-full' }>;

/**
 * A "disk full" page: a volume of the primary fills up. A filler file takes every free byte of the
 * volume (a tmpfs the drill mounted), then the injector writes until a write fails.
 *
 * wal (targets.postgres.walVolume): PostgreSQL fails as in production: the backend that needs a new
 * segment PANICs ("could not write to file "pg_wal/xlogtemp.…": No space left on device"), the
 * postmaster's crash recovery fails the same way and it shuts down.
 *
 * data (targets.postgres.dataVolume): the server stays up; every write that needs a new page of a
 * relation fails with ERROR "could not extend file …: No space left on device", while reads and
 * writes into room already allocated go on (the canary's table fails once its last page is full).
 *
 * T_fault is the start of the last write that still succeeded (the last instant the injector saw
 * writes work), or the start of the fill when the very first failed: any other write (the
 * canary's) may have met the full volume while the filler was still being written, so nothing
 * later is a safe bound.
 */
export async function injectDiskFull(ctx: DrillContext, fault: DiskFull): Promise<FaultHandle> {
  requireDrillTarget(ctx, 'disk-full');
  return fault.volume === 'data' ? fillDataVolume(ctx, fault) : fillWalVolume(ctx, fault);
}

async function fillWalVolume(ctx: DrillContext, fault: DiskFull): Promise<FaultHandle> {
  const instance = ctx.router.current;
  const volume = walVolumeOf(instance, 'disk-full');
  const before = volume.usage();
  const fillStartedAt = ctx.clock.now();
  const filler = await volume.fill();
  const full = await writeWalUntilRefused(ctx, instance, ctx.clock.now() + fault.failWithin);
  if (!full) {
    volume.removeFiller();
    throw new EnvironmentError(
      'DISK_FULL_NOT_IN_EFFECT',
      `${instance.name} still accepted writes ${fault.failWithin / 1000} s after its WAL volume was filled (writes of ${WAL_PER_WRITE} bytes of WAL); the filler was removed. ` +
        'Check that pg_wal is on the volume (targets.postgres.walVolume) and that nothing frees space on it',
    );
  }
  debug('%s: writes fail after %d succeeded: %s; log: %s', instance.name, full.writes, full.firstFailedWrite, full.serverLog ?? '-');
  return {
    description: `disk full: ${instance.name}'s WAL volume (${volume.path}) filled; writes fail${full.serverLog ? `: ${full.serverLog}` : ''}${full.serverStopped ? '; the server shut down' : ''}`,
    details: {
      instance: instance.name,
      volume: volume.path,
      volumeName: 'wal',
      volumeBytes: before.sizeBytes,
      freeBytesBefore: before.freeBytes,
      fillerBytes: filler.bytes,
      freeBytesAfter: volume.usage().freeBytes,
      fillStartedAt,
      writesBeforeFailure: full.writes,
      firstFailedWrite: full.firstFailedWrite,
      firstFailedWriteAt: full.firstFailedWriteAt,
      serverLog: full.serverLog,
      serverStopped: full.serverStopped,
      serverLogTail: full.serverLogTail,
    },
    inEffectAt: full.lastWriteOkAt ?? fillStartedAt,
    // Reverted only if recovery did not: the filler goes; restarting the server is recovery's job.
    async [Symbol.asyncDispose]() {
      volume.removeFiller();
    },
  };
}

async function fillDataVolume(ctx: DrillContext, fault: DiskFull): Promise<FaultHandle> {
  const instance = ctx.router.current;
  const volume = dataVolumeOf(instance, 'disk-full with volume: data');
  const before = volume.usage();
  let fillStartedAt = 0;
  let fillerBytes = 0;
  // The session's temporary table exists before the fill; it (and every row in it) goes when the session ends.
  const full = await withFillTable(
    instance,
    async (client) => {
      fillStartedAt = ctx.clock.now();
      fillerBytes = (await volume.fill()).bytes;
      return writeRowsUntilRefused(ctx, instance, client, ctx.clock.now() + fault.failWithin);
    },
    fault.failWithin + 60_000,
  ).catch((error: unknown) => {
    volume.removeFiller();
    throw error;
  });
  if (!full) {
    volume.removeFiller();
    throw new EnvironmentError(
      'DISK_FULL_NOT_IN_EFFECT',
      `${instance.name} still accepted writes ${fault.failWithin / 1000} s after its data volume was filled (rows of ${DATA_ROW_BYTES} bytes); the filler was removed. ` +
        'Check that the data directory is on the volume (targets.postgres.dataVolume) and that nothing frees space on it',
    );
  }
  debug('%s: writes fail after %d succeeded: %s; log: %s', instance.name, full.writes, full.firstFailedWrite, full.serverLog ?? '-');
  return {
    description: `disk full: ${instance.name}'s data volume (${volume.path}) filled; writes that need a new page fail${full.serverLog ? `: ${full.serverLog}` : `: ${full.firstFailedWrite}`}${full.serverRunning ? '; the server stays up' : '; the server is down'}`,
    details: {
      instance: instance.name,
      volume: volume.path,
      volumeName: 'data',
      volumeBytes: before.sizeBytes,
      freeBytesBefore: before.freeBytes,
      fillerBytes,
      freeBytesAfter: volume.usage().freeBytes,
      fillStartedAt,
      writesBeforeFailure: full.writes,
      firstFailedWrite: full.firstFailedWrite,
      firstFailedWriteAt: full.firstFailedWriteAt,
      serverLog: full.serverLog,
      serverStopped: !full.serverRunning,
      serverLogTail: full.serverLogTail,
    },
    inEffectAt: full.lastWriteOkAt ?? fillStartedAt,
    // Reverted only if recovery did not: the filler goes.
    async [Symbol.asyncDispose]() {
      volume.removeFiller();
    },
  };
}
