import { performance } from 'node:perf_hooks';
import type { Stamp } from './journal-types.js';

/**
 * The run's clock. Durations come from the monotonic clock so that NTP steps or a skewed wall
 * clock cannot shorten a measured RTO; wall time is recorded beside each reading for humans.
 */
export interface Clock {
  /** Milliseconds since the drill started, monotonic. */
  now(): number;
  stamp(): Stamp;
  /** Wall-clock time for a monotonic reading of this clock. */
  wallAt(t: number): string;
}

export function startClock(): Clock {
  const originMono = performance.now();
  const originWall = Date.now();
  const now = () => Math.round((performance.now() - originMono) * 1000) / 1000;
  const wallAt = (t: number) => new Date(originWall + t).toISOString();
  return { now, wallAt, stamp: () => { const t = now(); return { t, wall: wallAt(t) }; } };
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve(); }, ms);
    const onAbort = () => { clearTimeout(timer); reject(signal!.reason); };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
