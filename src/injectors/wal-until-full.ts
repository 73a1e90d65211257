import type { DrillContext } from '../engine/drill-context.js';
import { EnvironmentError } from '../engine/errors.js';
import { serverLogLines } from '../targets/postgres/server-log.js';
import type { PgInstance } from '../targets/postgres/types.js';
import type { SizedVolume } from '../targets/process/tmpfs-volume.js';
import { withClient } from '../targets/postgres/with-client.js';

/** WAL one write adds (a quarter of a 1 MiB segment): a few writes reach the next segment, which needs new space. */
export const WAL_PER_WRITE = 256 * 1024;
/** PostgreSQL logs the PANIC before the postmaster reacts; this bounds the wait for the line. */
const LOG_WAIT_MS = 10_000;
/** At least this long for the postmaster's failed crash recovery to end. */
const STOP_WAIT_MS = 15_000;
const NO_SPACE = /No space left on device/;

export interface WalVolumeFull {
  /** The start of the last write that still succeeded (undefined: none did). */
  lastWriteOkAt?: number;
  writes: number;
  firstFailedWrite: string;
  /** The start of the first write that failed. */
  firstFailedWriteAt: number;
  /** The server log's PANIC (or FATAL) naming the full disk. */
  serverLog?: string;
  /** Whether the postmaster shut down after its failed crash recovery, as it does on a full WAL volume. */
  serverStopped: boolean;
  serverLogTail?: string[];
}

/** The instance's WAL volume, or the exit-3 error saying how to get one. */
export function walVolumeOf(instance: PgInstance, what: string): SizedVolume {
  if (instance.walVolume) return instance.walVolume;
  throw new EnvironmentError(
    'DISK_VOLUME_MISSING',
    `${what} needs ${instance.name}'s WAL on a volume the drill created; add targets.postgres.walVolume with provider: native (only the primary created at provisioning has one)`,
  );
}

/**
 * Writes WAL (a transactional logical message: no table touched) until PostgreSQL refuses, then
 * waits for the PANIC in its log and for the postmaster to give up. Undefined when writes still
 * worked at `deadline` (the caller reverts what it did and says so).
 */
export async function writeWalUntilRefused(ctx: DrillContext, instance: PgInstance, deadline: number): Promise<WalVolumeFull | undefined> {
  let lastWriteOkAt: number | undefined;
  let writes = 0;
  let failure: string | undefined;
  let failedAt = 0;
  while (failure === undefined && ctx.clock.now() < deadline) {
    ctx.signal.throwIfAborted();
    const started = ctx.clock.now();
    try {
      await withClient(instance.connection, (c) => c.query('select pg_logical_emit_message(true, $1, repeat($2, $3))', ['drill-disk-full', 'x', WAL_PER_WRITE]), 10_000);
      lastWriteOkAt = started;
      writes++;
    } catch (error) {
      failure = error instanceof Error ? error.message : String(error);
      failedAt = started;
    }
  }
  if (failure === undefined) return undefined;
  const serverLog = await noSpaceLine(instance);
  const serverStopped = await awaitServerStopped(instance, Math.max(STOP_WAIT_MS, deadline - ctx.clock.now()));
  return { lastWriteOkAt, writes, firstFailedWrite: failure, firstFailedWriteAt: failedAt, serverLog, serverStopped, serverLogTail: await serverLogLines(instance, 8) };
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
