import { describe, expect, it } from 'vitest';
import { PausableDeadline } from '../../src/engine/pausable-deadline.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Timers never fire much early; under load they fire late, so every bound here is a lower bound or "not yet". */
describe('PausableDeadline (the scenario timeout, paused while a person works)', () => {
  it('does not expire while paused, and expires after the time that was left once resumed', async () => {
    let expiredAt: number | undefined;
    const start = performance.now();
    const paused = new PausableDeadline(200, () => (expiredAt = performance.now()));
    // Negative control: the same deadline, never paused, expires on its own.
    let controlExpired = false;
    const control = new PausableDeadline(200, () => (controlExpired = true));
    await sleep(50);
    const resume = paused.pause();
    const leftAtPause = paused.leftMs;
    expect(leftAtPause).toBeLessThanOrEqual(200 - 45);
    await sleep(400);
    expect(controlExpired).toBe(true);
    expect(expiredAt).toBeUndefined();
    expect(paused.leftMs).toBe(leftAtPause);
    const resumedAt = performance.now();
    resume();
    resume(); // a second call changes nothing
    await sleep(leftAtPause + 300);
    expect(expiredAt).toBeDefined();
    expect(expiredAt! - resumedAt).toBeGreaterThanOrEqual(leftAtPause - 5);
    expect(expiredAt! - start).toBeGreaterThanOrEqual(450);
    control.dispose();
  });

  it('nested pauses: the clock runs again only when the last one ends', async () => {
    let expired = false;
    const deadline = new PausableDeadline(60, () => (expired = true));
    const first = deadline.pause();
    const second = deadline.pause();
    first();
    await sleep(200);
    expect(expired).toBe(false);
    second();
    await sleep(300);
    expect(expired).toBe(true);
  });

  it('dispose stops it for good, paused or not', async () => {
    let expired = false;
    const deadline = new PausableDeadline(30, () => (expired = true));
    const resume = deadline.pause();
    deadline.dispose();
    resume();
    await sleep(150);
    expect(expired).toBe(false);
  });
});
