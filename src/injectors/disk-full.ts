import createDebug from 'debug';
import type { DrillContext, FaultHandle } from '../engine/drill-context.js';
import { EnvironmentError } from '../engine/errors.js';
import { requireDrillTarget } from '../engine/require-drill-target.js';
import type { Fault } from '../scenario/schema.js';
import type { PgInstance } from '../targets/postgres/types.js';
import { serverLogLines } from '../targets/postgres/server-log.js';
import { withClient } from '../targets/postgres/with-client.js';

const debug = createDebug('drill:inject');

type DiskFull = Extract<Fault, { type: 'disk-full' }>;

/** WAL one write adds (a quarter of a 1 MiB segment): a few writes reach the next segment, which needs new space. */
const WAL_PER_WRITE = 256 * 1024;
/** PostgreSQL logs the PANIC before the postmaster reacts; this bounds the wait for the line. */
const LOG_WAIT_MS = 10_000;

const NO_SPACE = /No space left on device/;
/** At least this long for the postmaster's failed crash recovery to end. */
const STOP_WAIT_MS = 15_000;

/**
 * Runbook-wise a "disk full" page: the primary's WAL volume fills up. A filler file takes every
 * free byte of the volume (tmpfs of targets.postgres.walVolume), then the injector writes WAL
 * (a transactional logical message: no table touched) until a write fails. PostgreSQL fails as in
 * production: the backend that needs a new segment PANICs ("could not write to file
 * "pg_wal/xlogtemp.…": No space left on device"), the postmaster's crash recovery fails the same
 * way and it shuts down. T_fault is the start of the last write that still succeeded (the last
 * instant the injector saw writes work), or the filler's completion when the very first failed.
 */
export async function injectDiskFull(ctx: DrillContext, fault: DiskFull): Promise<FaultHandle> {
  requireDrillTarget(ctx, 'disk-full');
  const instance = ctx.router.current;
  const volume = instance.walVolume;
  if (!volume) {
    throw new EnvironmentError(
      'DISK_VOLUME_MISSING',
      `disk-full needs ${instance.name}'s WAL on a volume the drill created; add targets.postgres.walVolume with provider: native (only the primary created at provisioning has one)`,
    );
  }
  const before = volume.usage();
  const filler = volume.fill();
  let inEffectAt = ctx.clock.now();
  const deadline = inEffectAt + fault.failWithin;
  let writes = 0;
  let failure: string | undefined;
  while (failure === undefined && ctx.clock.now() < deadline) {
    ctx.signal.throwIfAborted();
    const started = ctx.clock.now();
    try {
      await withClient(instance.connection, (c) => c.query('select pg_logical_emit_message(true, $1, repeat($2, $3))', ['drill-disk-full', 'x', WAL_PER_WRITE]), 10_000);
      inEffectAt = started;
      writes++;
    } catch (error) {
      failure = error instanceof Error ? error.message : String(error);
    }
  }
  if (failure === undefined) {
    volume.removeFiller();
    throw new EnvironmentError(
      'DISK_FULL_NOT_IN_EFFECT',
      `${instance.name} still accepted writes ${fault.failWithin / 1000} s after its WAL volume was filled (${writes} writes of ${WAL_PER_WRITE} bytes of WAL); the filler was removed. ` +
        'Check that pg_wal is on the volume (targets.postgres.walVolume) and that nothing frees space on it',
    );
  }
  const serverLog = await noSpaceLine(instance);
  const serverStopped = await awaitServerStopped(instance, Math.max(STOP_WAIT_MS, deadline - ctx.clock.now()));
  debug('%s: writes fail after %d succeeded: %s; log: %s', instance.name, writes, failure, serverLog ?? '-');
  return {
    description: `disk full: ${instance.name}'s WAL volume (${volume.path}) filled; writes fail${serverLog ? `: ${serverLog}` : ''}${serverStopped ? '; the server shut down' : ''}`,
    details: {
      instance: instance.name,
      volume: volume.path,
      volumeBytes: before.sizeBytes,
      freeBytesBefore: before.freeBytes,
      fillerBytes: filler.bytes,
      freeBytesAfter: volume.usage().freeBytes,
      writesBeforeFailure: writes,
      firstFailedWrite: failure,
      serverLog,
      serverStopped,
      serverLogTail: await serverLogLines(instance, 8),
    },
    inEffectAt,
    // Reverted only if recovery did not: the filler goes; restarting the server is recovery's job.
    async [Symbol.asyncDispose]() {
      volume.removeFiller();
    },
  };
}

/** The server log's line saying there is no space (the PANIC, or a FATAL of the startup process). */
async function noSpaceLine(instance: PgInstance): Promise<string | undefined> {
  const until = Date.now() + LOG_WAIT_MS;
  for (;;) {
    const lines = await serverLogLines(instance, 60);
    if (!lines) return undefined;
    const found = lines.find((l) => /PANIC/.test(l) && NO_SPACE.test(l)) ?? lines.find((l) => NO_SPACE.test(l));
    if (found || Date.now() > until) return found;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * After the PANIC the postmaster runs crash recovery, which needs a new WAL segment for its
 * end-of-recovery checkpoint and fails on the full volume, so the server shuts down: the state an
 * operator finds. Waited for, so recovery starts from it rather than racing the crash recovery.
 */
async function awaitServerStopped(instance: PgInstance, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (!(await instance.isRunning())) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return !(await instance.isRunning());
}
