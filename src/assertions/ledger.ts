/**
 * The canary ledger compared with what the recovered database holds: which acknowledged writes
 * survived, which were lost, holes, corrupted rows. Shared by the RPO and integrity assertions so
 * both judge from the same figures.
 */
import type { CanaryAck, RecoveredCanaryRow } from '../engine/journal-types.js';
import { rangesByEpoch, type EpochRanges } from './ranges.js';

export interface LedgerAnalysis {
  /** Distinct acknowledged writes (id, epoch). */
  acknowledged: number;
  /** True when a recovered row has the ack's id AND epoch (an id reused by a later epoch does not count). */
  survives(ack: Pick<CanaryAck, 'id' | 'epoch'>): boolean;
  /** Acknowledged writes with no recovered row of the same id and epoch, by epoch then id. */
  lost: CanaryAck[];
  lostByEpoch: EpochRanges[];
  /** Lost writes below the highest recovered id of their own epoch: an integrity failure, not just loss. */
  holes: EpochRanges[];
  holeCount: number;
  /** Recovered rows whose payload no longer hashes to the stored checksum. */
  corrupted: EpochRanges[];
  corruptedCount: number;
}

const key = (id: number, epoch: number): string => `${epoch}:${id}`;

export function analyseLedger(acks: readonly CanaryAck[], rows: readonly RecoveredCanaryRow[]): LedgerAnalysis {
  const recovered = new Set(rows.map((row) => key(row.id, row.epoch)));
  const survives = (ack: Pick<CanaryAck, 'id' | 'epoch'>): boolean => recovered.has(key(ack.id, ack.epoch));

  const distinct = new Map<string, CanaryAck>();
  for (const ack of acks) if (!distinct.has(key(ack.id, ack.epoch))) distinct.set(key(ack.id, ack.epoch), ack);
  const unique = [...distinct.values()];

  const lost = unique.filter((ack) => !survives(ack)).sort((a, b) => a.epoch - b.epoch || a.id - b.id);

  // Every recovered row proves its epoch reached that id, acknowledged or not (the writer commits
  // ids in order, one at a time; an unacknowledged row is a commit whose ack was lost in flight).
  const highestSurviving = new Map<number, number>();
  for (const row of rows) highestSurviving.set(row.epoch, Math.max(row.id, highestSurviving.get(row.epoch) ?? -Infinity));
  const holeAcks = lost.filter((ack) => ack.id < (highestSurviving.get(ack.epoch) ?? -Infinity));

  const corruptedRows = rows.filter((row) => !row.checksumOk);
  const corrupted = rangesByEpoch(corruptedRows);
  const holes = rangesByEpoch(holeAcks);

  return {
    acknowledged: unique.length,
    survives,
    lost,
    lostByEpoch: rangesByEpoch(lost),
    holes,
    holeCount: holes.reduce((sum, group) => sum + group.count, 0),
    corrupted,
    corruptedCount: corrupted.reduce((sum, group) => sum + group.count, 0),
  };
}
