import createDebug from 'debug';
import { sleep } from '../../engine/clock.js';

const debug = createDebug('drill:pg');

/** How often the lock file is read while pg_ctl waits (pg_ctl itself looks every 100 ms). */
const POLL_MS = 10;

/**
 * `pg_ctl -w` looks at the lock file ten times a second, so every start and stop it waits for
 * ends up to 100 ms after the server got there: a drill starting and stopping servers five times
 * lost half a second to it. This settles as soon as `reached()` (the same condition pg_ctl waits
 * for, read from the same file) holds, or when pg_ctl ends, whichever is first. pg_ctl only waits
 * by then (the signal is sent, or the postmaster forked): it is ended through `signal` and
 * awaited, so no pg_ctl outlives the call. Its failure counts only while `reached()` has not held.
 */
export async function soonerThanPgCtl(pgCtl: (signal: AbortSignal) => Promise<unknown>, reached: () => boolean, what: string): Promise<void> {
  const controller = new AbortController();
  let settled = false;
  const ended = pgCtl(controller.signal).finally(() => {
    settled = true;
  });
  const polled = (async (): Promise<'reached' | 'ended'> => {
    while (!settled) {
      if (reached()) return 'reached';
      await sleep(POLL_MS);
    }
    return 'ended';
  })();
  const first = await Promise.race([ended.then(() => 'ended' as const), polled]);
  if (first === 'ended') return;
  controller.abort();
  await ended.catch((error: unknown) => debug('%s: reached before pg_ctl saw it (pg_ctl ended: %s)', what, String(error)));
}
