import { formatDuration } from '../scenario/duration.js';
import { DrillError } from './errors.js';

/** The promise, or a STEP_TIMEOUT check failure naming `what` once `ms` have passed (the work itself is not stopped). */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DrillError('STEP_TIMEOUT', `${what} did not finish within ${formatDuration(ms)}`, 'check')), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}
