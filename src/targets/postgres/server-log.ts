import type { PgInstance } from './types.js';

/** Sessions refused while the server starts, recovers or stops: noise that hides the cause. */
const REFUSED_SESSION = /FATAL: {2}the database system is (starting up|shutting down|in recovery mode|not yet accepting connections)/;

/**
 * The last `count` lines of a server's log that say something about the server itself, without
 * the sessions it refused meanwhile (a probe every 250 ms fills the log with those), and without
 * the time and pid prefix; undefined where the harness cannot read the log.
 */
export async function serverLogLines(instance: PgInstance, count: number): Promise<string[] | undefined> {
  if (!instance.logTail) return undefined;
  const lines = (await instance.logTail(400)).split(' | ');
  return lines
    .filter((l) => !REFUSED_SESSION.test(l))
    .slice(-count)
    .map((l) => l.replace(/^\S+ \S+ \S+ \[\d+\] /, '').trim());
}
