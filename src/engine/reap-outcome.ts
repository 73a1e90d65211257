/**
 * What reaping one ledger entry found. `absent`: nothing of it is left, or what is there is not
 * the drill's (a pid now used by another program, a namespace without the run's label): nothing
 * to do. `left`: it is still there and could not be removed; the ledger keeps it for the next try.
 */
export type ReapOutcome = { state: 'absent' } | { state: 'removed'; what: string } | { state: 'left'; what: string; reason: string };

export const ABSENT: ReapOutcome = { state: 'absent' };

export const removed = (what: string): ReapOutcome => ({ state: 'removed', what });

export const left = (what: string, reason: string): ReapOutcome => ({ state: 'left', what, reason });
