/**
 * Whether each acknowledged canary write that survived carries a commit time from the time it was
 * written: its commit time as stored in the recovered database (`committedAt`: the SQL canary's
 * server_ts, the API canary's created_at; in older journals, the `serverWall` reported at
 * acknowledgement) must lie between the request's sending and its
 * acknowledgement on the drill's wall clock, give or take STAMP_SLACK_MS. A write stamped outside
 * that window was stamped by a clock other than the true one (a service that takes created_at
 * from a skewed host clock), and its order among the other writes by time is wrong. Pure.
 */
import type { CanaryAck, Journal, RecoveredCanaryRow } from '../engine/journal-types.js';
import { formatClockOffset } from '../scenario/clock-offset.js';
import { rangesByEpoch, type EpochRanges } from './ranges.js';

/** Room for a database on another host whose clock is a little off (and rounding). */
export const STAMP_SLACK_MS = 5000;

export interface MisstampedWrites {
  count: number;
  writes: EpochRanges[];
  /** The furthest stamp outside its window, in ms (positive: later than the acknowledgement). */
  worstMs: number;
}

/** The drill clock's wall origin (wall time at t = 0), from the first recorded phase; undefined before any. */
export function wallOrigin(journal: Pick<Journal, 'phases'>): number | undefined {
  const first = journal.phases[0]?.start;
  return first ? Date.parse(first.wall) - first.t : undefined;
}

export function misstampedWrites(acks: readonly CanaryAck[], rows: readonly RecoveredCanaryRow[], origin: number): MisstampedWrites {
  const stored = new Map(rows.map((r) => [`${r.epoch}:${r.id}`, r]));
  const outside: Array<{ ack: CanaryAck; offMs: number }> = [];
  for (const ack of acks) {
    // A lost write has no stored time: the RPO judges it.
    const row = stored.get(`${ack.epoch}:${ack.id}`);
    if (!row) continue;
    const stamped = Date.parse(row.committedAt ?? ack.serverWall);
    const sent = Date.parse(ack.clientWall);
    const acknowledged = origin + ack.tAck;
    if (!Number.isFinite(stamped) || !Number.isFinite(sent)) continue;
    if (stamped < sent - STAMP_SLACK_MS) outside.push({ ack, offMs: stamped - sent });
    else if (stamped > acknowledged + STAMP_SLACK_MS) outside.push({ ack, offMs: stamped - acknowledged });
  }
  const worst = outside.reduce((w, o) => (Math.abs(o.offMs) > Math.abs(w) ? o.offMs : w), 0);
  return { count: outside.length, writes: rangesByEpoch(outside.map((o) => o.ack)), worstMs: worst };
}

/** For messages: "+2h" / "-10m" (the furthest one, rounded to the second toward zero). */
export function describeWorst(ms: number): string {
  return formatClockOffset(Math.trunc(ms / 1000) * 1000);
}
