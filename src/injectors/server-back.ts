import createDebug from 'debug';
import pg from 'pg';
import { sleep, type Clock } from '../engine/clock.js';
import type { PgInstance } from '../targets/postgres/types.js';
import { endClient } from '../targets/postgres/end-client.js';

const debug = createDebug('drill:inject');

/** Between attempts to open a session while the server starts: the width of T_fault's bracket. */
const POLL_MS = 5;
/** How long to keep trying after pg_ctl said the server is up before giving up on seeing it ourselves. */
const AFTER_START_MS = 5000;

/**
 * Starts a stopped instance and returns when it began to serve sessions, as a lower bound on the
 * run clock: the start of the last session attempt it refused (nothing listening, or "the
 * database system is starting up"). The server was not serving when it refused that attempt, so
 * whatever it served came after the instant returned. pg_ctl's own wait polls ten times a second
 * and returns up to 100 ms after the server took its first session, which is why the instant is
 * not "when start() returned".
 */
export async function startObservingReady(instance: PgInstance, clock: Clock): Promise<number> {
  const startCalledAt = clock.now();
  let lastRefusedAt = startCalledAt;
  let startedAt: number | undefined;
  let startError: { error: unknown } | undefined;
  // Settles, never rejects: a failed start ends the polling and is thrown below.
  const started = instance.start().then(
    () => void (startedAt = clock.now()),
    (error: unknown) => void (startError = { error }),
  );
  for (;;) {
    const attemptAt = clock.now();
    if (await acceptsSession(instance)) break;
    lastRefusedAt = attemptAt;
    if (startError) throw startError.error;
    if (startedAt !== undefined && clock.now() - startedAt > AFTER_START_MS) {
      // Up for pg_ctl, but no session for us: the instant cannot be bracketed, so only the
      // earliest it could have been is safe.
      debug('%s started but refused sessions for %d ms; in effect from when it was started', instance.name, AFTER_START_MS);
      return startCalledAt;
    }
    await sleep(POLL_MS);
  }
  await started;
  if (startError) throw startError.error;
  debug('%s serving again %d ms after it was started (last refused session)', instance.name, Math.round(lastRefusedAt - startCalledAt));
  return lastRefusedAt;
}

async function acceptsSession(instance: PgInstance): Promise<boolean> {
  const client = new pg.Client({ ...instance.connection, connectionTimeoutMillis: 1000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await endClient(client);
  }
}
