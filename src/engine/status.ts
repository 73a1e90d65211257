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

/**
 * DESIGN.md section 6: a suite's exit code is the worst of its drills' (3 > 1 > 0), and 2 only
 * before anything starts. One drill that refused its input while running (a target not marked) is
 * exit 2 on its own; in a suite, other drills have run by then, so it counts as an environment
 * failure (3): the gate cannot be trusted, and "nothing was started" would not be true.
 */
export function suiteExitCode(statuses: RunStatus[]): number {
  if (statuses.length <= 1) return exitCodeFor(worstStatus(statuses));
  return exitCodeFor(worstStatus(statuses.map((s) => (s === 'invalid-input' ? 'environment-error' : s))));
}
