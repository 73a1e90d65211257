import { describe, expect, it } from 'vitest';
import { breakerStep, initialBreakerState, type BreakerConfig, type BreakerTransition, type HealthReading } from '../../src/recovery/circuit-breaker-state.js';

// The runbook's defaults: ERROR_THRESHOLD=5, TIME_WINDOW=60, a check every 10 s.
const RUNBOOK: BreakerConfig = { threshold: 5, windowMs: 60_000 };

/** Feeds readings (seconds, healthy) from a breaker started at 0; returns every transition. */
function run(readings: Array<[number, boolean]>, config: BreakerConfig = RUNBOOK): BreakerTransition[] {
  let state = initialBreakerState(0);
  return readings.map(([s, healthy]) => {
    const reading: HealthReading = { at: s * 1000, healthy };
    const next = breakerStep(state, reading, config);
    state = next.state;
    return next;
  });
}

const fail = (...seconds: number[]): Array<[number, boolean]> => seconds.map((s) => [s, false]);

describe('circuit breaker state (runbook circuit-breaker.sh)', () => {
  it('trips on the threshold-th failure in a row, not before', () => {
    const steps = run(fail(0, 10, 20, 30, 40));
    expect(steps.map((s) => s.state.errorCount)).toEqual([1, 2, 3, 4, 5]);
    expect(steps.map((s) => s.trip)).toEqual([false, false, false, false, true]);
    expect(steps.at(-1)!.state.tripped).toBe(true);
  });

  it('a passing check resets the count (the failures must be in a row)', () => {
    // All within one 60 s window, so only the success can have reset the count.
    const steps = run([...fail(0, 5, 10, 15), [20, true], ...fail(25, 30, 35, 40)]);
    expect(steps[4]).toMatchObject({ reset: 'success', trip: false, state: { errorCount: 0 } });
    expect(steps.map((s) => s.state.errorCount)).toEqual([1, 2, 3, 4, 0, 1, 2, 3, 4]);
    expect(steps.some((s) => s.trip)).toBe(false);
  });

  it('a passing check with nothing counted is not a reset', () => {
    expect(run([[0, true]])[0]).toEqual({ state: { errorCount: 0, windowStart: 0, tripped: false }, trip: false });
  });

  it('resets the count when the window is exceeded, and starts the next window at that check', () => {
    // One failure every 20 s: the fourth check (at 61 s) is past the 60 s window begun at 0.
    const steps = run(fail(0, 20, 40, 61, 80, 100, 120, 121));
    expect(steps[3]).toMatchObject({ reset: 'window', state: { errorCount: 1, windowStart: 61_000 } });
    expect(steps.map((s) => s.state.errorCount)).toEqual([1, 2, 3, 1, 2, 3, 4, 5]);
    // 121 s is exactly 60 s after the window began at 61 s: not exceeded (the script's `-gt`).
    expect(steps.at(-1)).toMatchObject({ trip: true, state: { windowStart: 61_000 } });
  });

  it('a window is not renewed by a success (START_TIME moves only when the window is exceeded)', () => {
    const steps = run([...fail(0, 10), [20, true], ...fail(30, 40, 50, 61)], { threshold: 4, windowMs: 60_000 });
    expect(steps[2]!.state.windowStart).toBe(0);
    // 30, 40, 50 count 1..3 in the first window; 61 exceeds it and counts 1 again, so no trip.
    expect(steps.map((s) => s.state.errorCount)).toEqual([1, 2, 0, 1, 2, 3, 1]);
    expect(steps.some((s) => s.trip)).toBe(false);
  });

  it('a window exceeded with nothing counted renews the window silently', () => {
    const steps = run([[0, true], [70, false]]);
    expect(steps[1]).toEqual({ state: { errorCount: 1, windowStart: 70_000, tripped: false }, trip: false });
  });

  it('threshold 1 trips on the first failure', () => {
    expect(run(fail(0), { threshold: 1, windowMs: 60_000 })[0]).toMatchObject({ trip: true });
  });

  it('stays tripped and trips only once (the script breaks out of its loop)', () => {
    const steps = run([...fail(0, 1, 2), [3, true], ...fail(4)], { threshold: 3, windowMs: 60_000 });
    expect(steps.map((s) => s.trip)).toEqual([false, false, true, false, false]);
    expect(steps.at(-1)!.state).toEqual({ errorCount: 3, windowStart: 0, tripped: true });
  });
});
