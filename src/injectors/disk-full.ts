import createDebug from 'debug';
import type { DrillContext, FaultHandle } from '../engine/drill-context.js';
import { EnvironmentError } from '../engine/errors.js';
import { requireDrillTarget } from '../engine/require-drill-target.js';
import type { Fault } from '../scenario/schema.js';
import { WAL_PER_WRITE, walVolumeOf, writeWalUntilRefused } from './wal-until-full.js';

const debug = createDebug('drill:inject');

type DiskFull = Extract<Fault, { type: 'disk-full' }>;

/**
 * A "disk full" page: the primary's WAL volume fills up. A filler file takes every free byte of
 * the volume (tmpfs of targets.postgres.walVolume), then the injector writes WAL until a write
 * fails. PostgreSQL fails as in production: the backend that needs a new segment PANICs ("could
 * not write to file "pg_wal/xlogtemp.…": No space left on device"), the postmaster's crash
 * recovery fails the same way and it shuts down. T_fault is the start of the last write that
 * still succeeded (the last instant the injector saw writes work), or the start of the fill when
 * the very first failed: any other write (the canary's) may have met the full volume, and PANICked
 * the server, while the filler was still being written, so nothing later is a safe bound.
 */
export async function injectDiskFull(ctx: DrillContext, fault: DiskFull): Promise<FaultHandle> {
  requireDrillTarget(ctx, 'disk-full');
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
