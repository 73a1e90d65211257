import { existsSync } from 'node:fs';
import { EnvironmentError } from '../../engine/errors.js';

/**
 * Where distributions put libfaketime's preload library (Debian/Ubuntu package `faketime`, per
 * architecture; Fedora and source builds under lib/faketime). libfaketime.so.1, not the MT
 * variant: the service's threads only read the clock.
 */
const CANDIDATES = [
  '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1',
  '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1',
  '/usr/lib64/faketime/libfaketime.so.1',
  '/usr/lib/faketime/libfaketime.so.1',
  '/usr/local/lib/faketime/libfaketime.so.1',
] as const;

/**
 * The library's path, or the do-this error (exit 3) naming the package. `DRILL_LIBFAKETIME` names
 * the library instead of the usual places (a build of its own; the tests point it at a missing file).
 */
export function requireLibfaketime(env: NodeJS.ProcessEnv = process.env, defaults: readonly string[] = CANDIDATES): string {
  const candidates = env.DRILL_LIBFAKETIME ? [env.DRILL_LIBFAKETIME] : defaults;
  const found = candidates.find((file) => existsSync(file));
  if (!found) {
    throw new EnvironmentError(
      'LIBFAKETIME_MISSING',
      `clock faults need libfaketime (libfaketime.so.1, looked for in ${candidates.join(', ')}); install the faketime package (Debian/Ubuntu: sudo apt-get install faketime) or run npm run setup as root`,
    );
  }
  return found;
}

/**
 * The variables that skew one child's clock by `offsetMs`: FAKETIME as a relative offset in
 * seconds, monotonic clocks left true (FAKETIME_DONT_FAKE_MONOTONIC) so Node's timers and the
 * service's latency histograms stay sane. Only the wall clock (CLOCK_REALTIME, time(),
 * gettimeofday) moves, as on a host whose NTP is broken.
 */
export function fakeTimeVariables(library: string, offsetMs: number): Record<string, string> {
  const seconds = Math.round(offsetMs / 1000);
  return { LD_PRELOAD: library, FAKETIME: `${seconds >= 0 ? '+' : ''}${seconds}`, FAKETIME_DONT_FAKE_MONOTONIC: '1' };
}
