import type { AttackAttempt } from '../../engine/journal-types.js';

/** What one use of a leaked credential came to (the attacker adds the credential and the instants). */
export type UseOutcome = Pick<AttackAttempt, 'outcome' | 'status' | 'endpoint' | 'error' | 'detail'>;

/**
 * One way an attacker uses a leaked credential against a real system: an HTTP request with a
 * token, a database login and query with a password. The attacker times and records the uses;
 * the use only talks to the system (loopback addresses only) and says what it answered.
 */
export interface CredentialUse {
  /** What the journal calls it, e.g. "GET /api/accounts/2". */
  readonly description: string;
  use(signal: AbortSignal): Promise<UseOutcome>;
  /** Closes whatever the use holds open (a database session). */
  close(): Promise<void>;
}

/** Loopback only: every address a drill contacts is loopback or in a network it made, and these services listen on loopback. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
