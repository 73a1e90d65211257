import type pg from 'pg';
import type { DrillContext } from '../engine/drill-context.js';
import { EnvironmentError } from '../engine/errors.js';
import { serverLogLines } from '../targets/postgres/server-log.js';
import type { PgInstance } from '../targets/postgres/types.js';
import type { SizedVolume } from '../targets/process/tmpfs-volume.js';
import { withClient } from '../targets/postgres/with-client.js';

/** Bytes of one row the injector writes: four to a heap page, so a page or two of room is used up in a few writes. */
export const DATA_ROW_BYTES = 1800;
/** PostgreSQL logs the ERROR as the statement fails; this bounds the wait for the line. */
const LOG_WAIT_MS = 10_000;
/** What PostgreSQL says when a relation cannot grow on a full file system. */
export const COULD_NOT_EXTEND = /could not extend file .*No space left on device/;

export interface DataVolumeFull {
  /** The start of the last write that still succeeded (undefined: none did). */
  lastWriteOkAt?: number;
  writes: number;
  firstFailedWrite: string;
  /** The start of the first write that failed. */
  firstFailedWriteAt: number;
  /** The server log's ERROR naming the full disk. */
  serverLog?: string;
  /** Whether the server still runs: on a full data volume it does (an ERROR, not a PANIC). */
  serverRunning: boolean;
  serverLogTail?: string[];
}

/** The instance's data volume, or the exit-3 error saying how to get one. */
export function dataVolumeOf(instance: PgInstance, what: string): SizedVolume {
  if (instance.dataVolume) return instance.dataVolume;
  throw new EnvironmentError(
    'DISK_VOLUME_MISSING',
    `${what} needs ${instance.name}'s data directory on a volume the drill created; add targets.postgres.dataVolume with provider: native (only the primary created at provisioning has one)`,
  );
}

/**
 * One session with a temporary table of its own (created before the volume is filled: its catalog
 * rows need room too), so the rows the injector writes go when the session ends, whatever happens.
 */
export async function withFillTable<T>(instance: PgInstance, fn: (client: pg.Client) => Promise<T>, timeoutMs: number): Promise<T> {
  return withClient(
    instance.connection,
    async (c) => {
      await c.query('create temporary table drill_disk_fill (pad text) with (autovacuum_enabled = off)');
      return fn(c);
    },
    timeoutMs,
  );
}

/**
 * Inserts rows until PostgreSQL refuses one because the relation cannot grow ("could not extend
 * file …: No space left on device"), then finds the ERROR in the server log. Undefined when writes
 * still worked at `deadline`. Any other failure is not the full disk: it is thrown.
 */
export async function writeRowsUntilRefused(ctx: DrillContext, instance: PgInstance, client: pg.Client, deadline: number): Promise<DataVolumeFull | undefined> {
  let lastWriteOkAt: number | undefined;
  let writes = 0;
  while (ctx.clock.now() < deadline) {
    ctx.signal.throwIfAborted();
    const started = ctx.clock.now();
    try {
      await client.query('insert into drill_disk_fill values (repeat($1, $2))', ['x', DATA_ROW_BYTES]);
      lastWriteOkAt = started;
      writes++;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (!COULD_NOT_EXTEND.test(message)) {
        throw new EnvironmentError('DISK_FULL_UNEXPECTED_ERROR', `a write on ${instance.name}'s full data volume failed, but not for lack of space: ${message}`, { cause: error });
      }
      const serverLog = await couldNotExtendLine(instance);
      return {
        lastWriteOkAt,
        writes,
        firstFailedWrite: message,
        firstFailedWriteAt: started,
        serverLog,
        serverRunning: await instance.isRunning(),
        serverLogTail: await serverLogLines(instance, 8),
      };
    }
  }
  return undefined;
}

/** The server log's ERROR saying a relation could not be extended. */
async function couldNotExtendLine(instance: PgInstance): Promise<string | undefined> {
  const until = Date.now() + LOG_WAIT_MS;
  for (;;) {
    const lines = await serverLogLines(instance, 60);
    if (!lines) return undefined;
    const found = lines.find((l) => /ERROR/.test(l) && COULD_NOT_EXTEND.test(l));
    if (found || Date.now() > until) return found;
    await new Promise((r) => setTimeout(r, 100));
  }
}
