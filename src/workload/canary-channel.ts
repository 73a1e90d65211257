import type { RecoveredLedger, Stamp } from '../engine/journal-types.js';
import type { ConnectionInfo } from '../targets/postgres/types.js';

/** What the server said about one acknowledged canary write. */
export interface CanaryReceipt {
  /** sha256 of the payload as the writer sent it. */
  checksum: string;
  /** The server's own time of the write (informational: clocks may be skewed). */
  serverWall: string;
}

/**
 * How the canary writer's rows reach the database and are read back: straight SQL into
 * drill_canary, or POST /api/transfers through the service. The writer (rate, ids, epochs,
 * pause/retarget) is the same for both; a channel only knows its own path and ledger format.
 */
export interface CanaryChannel {
  /**
   * Whether the writer backs off while this channel's writes fail (canaryDelayMs). Yes for SQL: each
   * attempt on a database that refuses connections costs it a process. No for the API: its writes
   * are the service's client traffic, whose errors an error-rate probe and the runbook's circuit
   * breaker measure; slowing them down while the service answers 500 would hide the bad release.
   */
  readonly backsOffWhileFailing: boolean;
  /** Writes one row; resolves only when the write was acknowledged (a commit, a 201/200), throws otherwise. */
  write(id: number, epoch: number): Promise<CanaryReceipt>;
  /** The highest id that exists on the database the application now uses (ids continue after it). */
  highestId(): Promise<number>;
  /** Drops any connection, so the next write reconnects (to wherever the application now points). */
  reset(): Promise<void>;
  /** The canary rows an instance holds, each with whether its content still matches its checksum. */
  readBack(connection: ConnectionInfo, instance: string, at: () => Stamp): Promise<RecoveredLedger>;
}
