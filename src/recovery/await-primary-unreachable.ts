import type { DrillContext } from '../engine/drill-context.js';
import { sleep } from '../engine/clock.js';
import { StepFailedError } from '../engine/errors.js';
import { formatDuration } from '../scenario/duration.js';
import pg from 'pg';
import type { ConnectionInfo } from '../targets/postgres/types.js';
import { endClient } from '../targets/postgres/end-client.js';

/** How often the primary is tried, and how long one try may take (a hung link counts as down). */
const EVERY_MS = 500;
const TRY_MS = 1_000;

export interface UnreachableWait {
  /** From the step's start to the decision. */
  waitedMs: number;
  /** How long the primary had been failing, without a success in between, when the threshold was met. */
  unreachableForMs: number;
  tries: number;
  /** The last failure, as the application's client saw it. */
  lastError: string;
}

/**
 * An automatic-failover policy as a runbook states it ("promote when the primary has been unreachable
 * for N seconds"): the primary is tried the way the application reaches it (through its link, when
 * the scenario has one) every 500 ms, each try bounded to 1 s; the streak of failures starts at the
 * first failed try's start and any success resets it. Returns once the streak reaches `thresholdMs`;
 * a primary that is not unreachable long enough within `timeoutMs` fails the step (PRIMARY_STILL_REACHABLE): a
 * failover then would have promoted beside a working primary.
 */
export async function awaitPrimaryUnreachable(ctx: DrillContext, thresholdMs: number, timeoutMs: number): Promise<UnreachableWait> {
  const start = ctx.clock.now();
  let streakStart: number | undefined;
  let tries = 0;
  let lastError = '';
  let lastSuccessAt: number | undefined;
  for (;;) {
    const tryStart = ctx.clock.now();
    // No try that could end past the budget: the step must fail with its own reason, in time.
    if (tryStart - start + TRY_MS > timeoutMs) {
      throw new StepFailedError(
        'PRIMARY_STILL_REACHABLE',
        `${ctx.router.current.name} was not unreachable for ${formatDuration(thresholdMs)} in a row within ${formatDuration(timeoutMs)}` +
          (lastSuccessAt !== undefined ? ` (it last answered at T+${formatDuration(lastSuccessAt - start)} of the step)` : '') +
          ': nothing was promoted; a promotion now would run beside a working primary',
      );
    }
    tries += 1;
    const ok = await tryOnce(ctx.router.applicationConnection).then(
      () => true,
      (error: unknown) => {
        lastError = error instanceof Error ? error.message : String(error);
        return false;
      },
    );
    const now = ctx.clock.now();
    if (ok) {
      streakStart = undefined;
      lastSuccessAt = now;
    } else {
      streakStart ??= tryStart;
      if (now - streakStart >= thresholdMs) {
        ctx.recorder.event('primary-unreachable', `${ctx.router.current.name} unreachable from the application for ${formatDuration(now - streakStart)} (threshold ${formatDuration(thresholdMs)}): ${lastError}`, {
          unreachableForMs: now - streakStart,
          tries,
        });
        return { waitedMs: now - start, unreachableForMs: now - streakStart, tries, lastError };
      }
    }
    await sleep(Math.max(0, EVERY_MS - (now - tryStart)), ctx.signal);
  }
}

/** Connect and `select 1`, all within TRY_MS (a dropped SYN or a silent link must not hold a try longer). */
async function tryOnce(connection: ConnectionInfo): Promise<void> {
  const client = new pg.Client({ ...connection, connectionTimeoutMillis: TRY_MS, query_timeout: TRY_MS, statement_timeout: TRY_MS });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('select 1');
  } finally {
    await endClient(client);
  }
}
