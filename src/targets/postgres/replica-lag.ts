import { lsnDiff } from './lsn.js';
import { currentWalLsn, standbyPosition } from './replication-status.js';
import { adminConnection } from './sql-names.js';
import type { PgInstance } from './types.js';
import { withClient } from './with-client.js';

/** How far a replica is behind its primary, each side read on its own server (never through a proxy). */
export interface ReplicaLag {
  replica: string;
  primaryLsn: string;
  receiveLsn: string | null;
  replayLsn: string | null;
  /** WAL the primary has written that the replica has not replayed (0 or more). */
  replayBytesBehind: number;
  /** WAL the primary has written that the replica has not even received. */
  receiveBytesBehind: number;
  /** Age of the newest commit the replica replayed, by the replica's own clock (null before any). */
  replayAgeMs: number | null;
  inRecovery: boolean;
}

/** One reading: the primary's WAL position first, so a replica that caught up reads 0 behind (never negative). */
export async function replicaLag(primary: PgInstance, replica: PgInstance, timeoutMs = 3_000): Promise<ReplicaLag> {
  const primaryLsn = await withClient(adminConnection(primary), currentWalLsn, timeoutMs);
  const position = await withClient(adminConnection(replica), standbyPosition, timeoutMs);
  const behind = (lsn: string | null) => (lsn === null ? lsnDiff(primaryLsn, '0/0') : Math.max(0, lsnDiff(primaryLsn, lsn)));
  return {
    replica: replica.name,
    primaryLsn,
    receiveLsn: position.receiveLsn,
    replayLsn: position.replayLsn,
    replayBytesBehind: behind(position.replayLsn),
    receiveBytesBehind: behind(position.receiveLsn),
    replayAgeMs: position.replayAgeSeconds === null ? null : Math.round(position.replayAgeSeconds * 1000),
    inRecovery: position.inRecovery,
  };
}
