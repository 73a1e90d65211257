import type { RunStatus } from './journal-types.js';

/** DESIGN.md section 6: the exit code a CI gate reads. */
export function exitCodeFor(status: RunStatus): number {
  switch (status) {
    case 'passed':
      return 0;
    case 'failed':
      return 1;
    case 'invalid-input':
      return 2;
    case 'environment-error':
      return 3;
    case 'interrupted':
      return 130;
  }
}

/** Several drills in one invocation: the worst status decides (an untrusted gate beats a failed one). */
export function worstStatus(statuses: RunStatus[]): RunStatus {
  const order: RunStatus[] = ['passed', 'failed', 'invalid-input', 'environment-error', 'interrupted'];
  return statuses.reduce<RunStatus>((worst, s) => (order.indexOf(s) > order.indexOf(worst) ? s : worst), 'passed');
}
