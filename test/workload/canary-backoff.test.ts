/**
 * The canary backs off while writes fail and returns to its interval on the first success. The
 * channel here is an in-process stand-in: what is tested is the writer's schedule, not a database
 * (the drill that needs it, pg-cpu-starved-degraded, runs in test/e2e/pg-resource-pressure.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { startClock, sleep } from '../../src/engine/clock.js';
import type { CanaryChannel } from '../../src/workload/canary-channel.js';
import { CANARY_MAX_BACKOFF_MS, canaryDelayMs, CanaryWriter } from '../../src/workload/canary-writer.js';
import type { DatabaseRouter } from '../../src/workload/database-router.js';

describe('canaryDelayMs', () => {
  it('is the interval while writes succeed, then doubles per failure up to the cap, never below the interval', () => {
    expect([0, 1, 2, 3, 4, 10].map((n) => canaryDelayMs(100, n))).toEqual([100, 200, 400, 800, CANARY_MAX_BACKOFF_MS, CANARY_MAX_BACKOFF_MS]);
    expect(canaryDelayMs(5000, 3)).toBe(5000);
  });
});

describe('CanaryWriter while its writes fail', () => {
  it('attempts far fewer writes than its interval would, and writes at the interval again once one succeeds', async () => {
    const clock = startClock();
    let failing = true;
    const attempts: number[] = [];
    const channel: CanaryChannel = {
      write: async () => {
        attempts.push(clock.now());
        if (failing) throw new Error('the database system is starting up');
        return { checksum: 'x', serverWall: new Date().toISOString() };
      },
      highestId: async () => 0,
      reset: async () => undefined,
      readBack: async () => ({ instance: 'x', rows: [], at: clock.stamp() }) as never,
    };
    const acks: number[] = [];
    const writer = new CanaryWriter({ router: {} as DatabaseRouter, clock, intervalMs: 50, onAck: (a) => acks.push(a.tAck), onFailure: () => undefined, channel });
    writer.start();
    await sleep(2500);
    const failedAttempts = attempts.length;
    // At the interval: 50 attempts in 2.5 s. Backing off (100, 200, 400, 800, 1000 ms): about 6.
    expect(failedAttempts).toBeGreaterThanOrEqual(3);
    expect(failedAttempts).toBeLessThanOrEqual(8);
    failing = false;
    await sleep(1000 + 500); // the wait already scheduled (≤ 1 s), then writes at the interval
    await writer.stop();
    expect(acks.length).toBeGreaterThanOrEqual(3);
    // Still backing off, writes would be ≥ 1 s apart (timers only ever fire late).
    const gaps = acks.slice(1).map((t, i) => t - acks[i]!);
    expect(Math.max(...gaps)).toBeLessThan(900);
  });
});
