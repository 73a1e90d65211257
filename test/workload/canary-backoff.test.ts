/**
 * The canary backs off while writes fail and returns to its interval on the first success. The
 * channel here is an in-process stand-in: what is tested is the writer's schedule, not a database
 * (the drill that needs it, pg-cpu-starved-degraded, runs in test/e2e/pg-resource-pressure.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { sleep, startClock } from '../../src/engine/clock.js';
import type { CanaryChannel } from '../../src/workload/canary-channel.js';
import { CANARY_MAX_BACKOFF_MS, canaryDelayMs, CanaryWriter } from '../../src/workload/canary-writer.js';
import type { DatabaseRouter } from '../../src/workload/database-router.js';

describe('canaryDelayMs', () => {
  it('is the interval while writes succeed, then doubles per failed write up to the cap, never below the interval', () => {
    expect([0, 1, 2, 3, 4, 10].map((n) => canaryDelayMs(100, n))).toEqual([100, 200, 400, 800, CANARY_MAX_BACKOFF_MS, CANARY_MAX_BACKOFF_MS]);
    expect(canaryDelayMs(5000, 3)).toBe(5000);
  });
});

/** A writer at 50 ms whose channel fails while `failing.now` is true, with every attempt's time. */
function writerWithSwitch(backsOffWhileFailing = true) {
  const clock = startClock();
  const failing = { now: true };
  const attempts: number[] = [];
  const acks: number[] = [];
  const channel: CanaryChannel = {
    backsOffWhileFailing,
    write: async () => {
      attempts.push(clock.now());
      if (failing.now) throw new Error('the database system is starting up');
      return { checksum: 'x', serverWall: new Date().toISOString() };
    },
    highestId: async () => 0,
    reset: async () => undefined,
    readBack: async () => {
      throw new Error('not read back here');
    },
  };
  const writer = new CanaryWriter({ router: {} as DatabaseRouter, clock, intervalMs: 50, onAck: (a) => acks.push(a.tAck), onFailure: () => undefined, channel });
  return { writer, failing, attempts, acks };
}

async function until(condition: () => boolean, deadlineMs: number): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`condition not reached within ${deadlineMs} ms`);
    await sleep(20);
  }
}

/** The largest gap between consecutive times. */
const largestGap = (times: number[]) => Math.max(...times.slice(1).map((t, i) => t - times[i]!));

describe('CanaryWriter while its writes fail', () => {
  it('attempts far fewer writes than its interval would, and writes at the interval again once one succeeds', async () => {
    const { writer, failing, attempts, acks } = writerWithSwitch();
    writer.start();
    await sleep(2500);
    // At the interval: 50 attempts in 2.5 s. Backing off (100, 200, 400, 800, 1000 ms): about 6.
    expect(attempts.length).toBeGreaterThanOrEqual(2);
    expect(attempts.length).toBeLessThanOrEqual(8);
    failing.now = false;
    await until(() => acks.length >= 5, 10_000);
    await writer.stop();
    // Still backing off, writes would be ≥ 1 s apart (timers only ever fire late).
    expect(largestGap(acks)).toBeLessThan(900);
  });

  it('a channel that does not back off (the API: its errors are the traffic an error rate measures) keeps its interval', async () => {
    const { writer, attempts } = writerWithSwitch(false);
    writer.start();
    await sleep(2500);
    await writer.stop();
    // 50 at the interval; a backing-off writer makes at most 8 (above).
    expect(attempts.length).toBeGreaterThanOrEqual(15);
  });
});
