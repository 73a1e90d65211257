/**
 * RPO (DESIGN.md section 4) from the canary ledger: the acknowledged writes against the rows read
 * back from the recovered database. Time is the client's monotonic `tAck` only: server wall-clock
 * times may be skewed and are never used.
 */
import type { CanaryAck, Journal, Measurements } from '../engine/journal-types.js';
import { formatDuration } from '../scenario/duration.js';
import { breachWord, plural, type Assessment, type Expect } from './assessment.js';
import { analyseLedger, type LedgerAnalysis } from './ledger.js';
import { describeEpochRanges, flattenRanges, rangesByEpoch } from './ranges.js';

export interface RpoFigures {
  rpoMs: number;
  /** No write acknowledged before the fault survived: RPO then runs from the first acknowledged write. */
  everythingLost: boolean;
  preFaultAcks: number;
  preFaultLost: number;
  newestPreFault: CanaryAck;
  newestSurvivingPreFault?: CanaryAck;
  /** Writes acknowledged at/after T_fault that did not survive. */
  lostAfterFault: CanaryAck[];
}

const newest = (acks: CanaryAck[]): CanaryAck | undefined =>
  acks.reduce<CanaryAck | undefined>((best, ack) => (best === undefined || ack.tAck > best.tAck ? ack : best), undefined);
const oldest = (acks: readonly CanaryAck[]): CanaryAck | undefined =>
  acks.reduce<CanaryAck | undefined>((best, ack) => (best === undefined || ack.tAck < best.tAck ? ack : best), undefined);

/**
 * RPO = tAck(newest pre-fault ack) - tAck(newest pre-fault ack that survived); 0 when that is the
 * same write. When no pre-fault ack survived: tAck(newest pre-fault ack) - tAck(first ack).
 * Undefined when nothing was acknowledged before the fault (RPO cannot be measured).
 */
export function measureRpo(acks: readonly CanaryAck[], ledger: LedgerAnalysis, tFault: number): RpoFigures | undefined {
  const preFault = acks.filter((ack) => ack.tAck < tFault);
  const newestPreFault = newest(preFault);
  if (newestPreFault === undefined) return undefined;
  const newestSurvivingPreFault = newest(preFault.filter((ack) => ledger.survives(ack)));
  const since = newestSurvivingPreFault ?? oldest(acks)!;
  return {
    rpoMs: newestPreFault.tAck - since.tAck,
    everythingLost: newestSurvivingPreFault === undefined,
    preFaultAcks: preFault.length,
    preFaultLost: preFault.filter((ack) => !ledger.survives(ack)).length,
    newestPreFault,
    ...(newestSurvivingPreFault ? { newestSurvivingPreFault } : {}),
    lostAfterFault: ledger.lost.filter((ack) => ack.tAck >= tFault),
  };
}

/** The ledger's figures as Measurements stores them (no RPO time). */
export function ledgerMeasurements(ledger: LedgerAnalysis): Measurements {
  return {
    lostWrites: ledger.lost.length,
    lostRanges: flattenRanges(ledger.lostByEpoch),
    holes: flattenRanges(ledger.holes),
  };
}

const ackDetails = (ack: CanaryAck | undefined): Record<string, unknown> | undefined =>
  ack && { id: ack.id, epoch: ack.epoch, tAck: ack.tAck };

export function assessRpo(
  journal: Journal,
  expect: Pick<Expect, 'rpo' | 'writesLostAfterFault'> = journal.scenario.definition.expect,
): Assessment {
  const limit = expect.rpo;
  const { acks, recovered } = journal.canary;
  const fail = (message: string, measurements: Measurements = {}, details: Record<string, unknown> = {}): Assessment => ({
    verdict: { check: 'rpo', status: 'failed', message, limit, details: { acknowledged: acks.length, ...details } },
    measurements,
  });

  if (recovered === undefined) {
    return fail("RPO cannot be measured: the recovered database's ledger was never read");
  }
  const ledger = analyseLedger(acks, recovered.rows);
  const base = ledgerMeasurements(ledger);
  const ledgerDetails = {
    recoveredFrom: recovered.instance,
    recoveredRows: recovered.rows.length,
    lost: ledger.lostByEpoch,
    holes: ledger.holes,
    corrupted: ledger.corrupted,
  };

  const tFault = journal.marks.tFault?.t;
  if (tFault === undefined) {
    return fail('RPO cannot be measured: T_fault was never recorded (the fault was not reported in effect)', base, ledgerDetails);
  }
  const figures = measureRpo(acks, ledger, tFault);
  if (figures === undefined) {
    const { attempts, failures } = journal.canary;
    return fail(
      `RPO cannot be measured: no canary write was acknowledged before T_fault (${plural(attempts, 'attempt')}, ${plural(failures, 'failure')})`,
      base,
      ledgerDetails,
    );
  }

  const { rpoMs, lostAfterFault } = figures;
  const lostAfter = lostAfterFault.length;
  const measurements: Measurements = { rpoMs, ...base, lostAfterFault: lostAfter };
  const rpoOk = rpoMs < limit;
  const afterOk = lostAfter === 0 || expect.writesLostAfterFault === 'report';
  const afterGroups = rangesByEpoch(lostAfterFault);

  const lost = ledger.lost.length;
  let loss = lost === 0 ? 'no acknowledged write lost' : `${plural(lost, 'acknowledged write')} lost (${describeEpochRanges(ledger.lostByEpoch)})`;
  if (lostAfter > 0) loss += `, ${lostAfter} of them acknowledged after the fault${afterOk ? ' (reported only)' : ''}`;
  const rpoPart = rpoOk
    ? `RPO ${formatDuration(rpoMs)} within ${formatDuration(limit)}: ${loss}`
    : `RPO ${formatDuration(rpoMs)} ${breachWord(rpoMs, limit)} ${formatDuration(limit)}: ${loss}`;
  const afterPart = `${plural(lostAfter, 'write')} acknowledged after the fault ${lostAfter === 1 ? 'was' : 'were'} lost (${describeEpochRanges(afterGroups)}): split-brain or a discarded timeline, and writesLostAfterFault is 'fail'`;

  // Lost writes acknowledged once a replica had been promoted: another primary acknowledged them
  // (the old one, still running and not fenced), so they are the split brain's, named as such.
  // They fail the drill even with writesLostAfterFault 'report': that setting excuses writes a
  // restore or an asynchronous failover drops by design (acknowledged before the new primary
  // existed), never writes a second primary took after it.
  const promotion = firstPromotion(journal);
  const promotedAt = promotion?.at;
  // A failback promotes the rebuilt primary while the DR primary may still take writes: what the
  // DR acknowledged after that is missing from the primary that serves at the end, named apart.
  const failbackAt = failbackPromotion(journal);
  const lostAfterFailback = failbackAt === undefined ? [] : lostAfterFault.filter((ack) => ack.tAck >= failbackAt);
  const splitBrain = promotedAt === undefined ? [] : lostAfterFault.filter((ack) => ack.tAck >= promotedAt && (failbackAt === undefined || ack.tAck < failbackAt));
  const splitOk = splitBrain.length === 0 && lostAfterFailback.length === 0;
  const after = promotion?.by === 'promote-replica' ? 'promote-replica had completed' : `${promotion?.by ?? 'a step'} had promoted the replica`;
  const splitPart = `${plural(splitBrain.length, 'write')} (${describeEpochRanges(rangesByEpoch(splitBrain))}) ${splitBrain.length === 1 ? 'was' : 'were'} acknowledged after ${after} and ${splitBrain.length === 1 ? 'is' : 'are'} missing from the new primary: acknowledged by the old primary, still taking writes (split-brain; fence it before promoting)`;
  const parts = !afterOk && rpoOk ? [afterPart, rpoPart] : afterOk ? [rpoPart] : [rpoPart, afterPart];
  if (splitBrain.length > 0) parts.unshift(splitPart);
  if (lostAfterFailback.length > 0) {
    const n = lostAfterFailback.length;
    parts.unshift(
      `${plural(n, 'write')} (${describeEpochRanges(rangesByEpoch(lostAfterFailback))}) ${n === 1 ? 'was' : 'were'} acknowledged after failback's switchover began (the DR position the rebuilt primary had to reach, then its promotion) and ${n === 1 ? 'is' : 'are'} missing from it: acknowledged by the DR primary, still taking writes (stop writes on the DR side and let the rebuilt primary catch up before the switchover)`,
    );
  }
  if (figures.everythingLost) {
    parts.push('every write acknowledged before the fault was lost, so RPO is counted from the first acknowledged write');
  }
  if (ledger.holeCount > 0) {
    parts.push(`holes: ${describeEpochRanges(ledger.holes)} missing below a surviving id (an integrity failure)`);
  }

  return {
    verdict: {
      check: 'rpo',
      status: rpoOk && afterOk && splitOk ? 'passed' : 'failed',
      message: parts.join('; '),
      measured: rpoMs,
      limit,
      details: {
        tFault,
        acknowledged: acks.length,
        preFaultAcks: figures.preFaultAcks,
        preFaultLost: figures.preFaultLost,
        newestPreFault: ackDetails(figures.newestPreFault),
        newestSurvivingPreFault: ackDetails(figures.newestSurvivingPreFault) ?? null,
        everythingLost: figures.everythingLost,
        lostAfterFault: afterGroups,
        ...(promotion !== undefined ? { promotedAt: promotion.at, promotedBy: promotion.by, lostAfterPromotion: rangesByEpoch(splitBrain) } : {}),
        ...(failbackAt !== undefined ? { failbackPromotedAt: failbackAt, lostAfterFailback: rangesByEpoch(lostAfterFailback) } : {}),
        writesLostAfterFault: expect.writesLostAfterFault,
        ...ledgerDetails,
      },
    },
    measurements,
  };
}

/**
 * When a failback's switchover began: the DR position read for the rebuilt primary to reach (the
 * `dr-writes-fenced` / `dr-writes-not-fenced` event), or its promotion (pg_promote called, the
 * `failback-promoted` event's `promoteSentAt`), whichever is earlier: from then on writes the DR
 * primary still acknowledges are not in the primary that serves at the end.
 */
export function failbackPromotion(journal: Pick<Journal, 'events'>): number | undefined {
  const event = journal.events.find((e) => e.kind === 'failback-promoted');
  const promoted = event === undefined ? undefined : typeof event.data?.promoteSentAt === 'number' ? event.data.promoteSentAt : event.t;
  // The switchover begins earlier, when failback reads the DR primary's position the rebuilt one
  // must reach (fenced or not): what the DR acknowledges after that is not replayed either.
  const switchover = journal.events.find((e) => e.kind === 'dr-writes-fenced' || e.kind === 'dr-writes-not-fenced')?.t;
  const instants = [promoted, switchover].filter((t): t is number => t !== undefined);
  return instants.length === 0 ? undefined : Math.min(...instants);
}

/**
 * When a replica first became a second primary: the end of a passed promote-replica step, or the
 * instant pg_promote was called as a `promoted` event records it (journaled by every promotion, also one inside another step such as
 * activate-dr-site, which promotes the DR region's replica and goes on waiting for readiness),
 * whichever is earlier; `by` names the step it happened in.
 */
export function firstPromotion(journal: Pick<Journal, 'steps' | 'events'>): { at: number; by: string } | undefined {
  const stepOf = (t: number) => journal.steps.find((s) => s.start.t <= t && (s.end === undefined || t <= s.end.t))?.name;
  const candidates = [
    ...journal.steps.filter((s) => s.name === 'promote-replica' && s.status === 'passed' && s.end).map((s) => ({ at: s.end!.t, by: 'promote-replica' })),
    // The event's `promoteSentAt` (pg_promote called): from then on the replica may be a primary;
    // the event itself is journaled only after the promotion was checked, later.
    ...journal.events
      .filter((e) => e.kind === 'promoted')
      .map((e) => {
        const at = typeof e.data?.promoteSentAt === 'number' ? e.data.promoteSentAt : e.t;
        return { at, by: stepOf(at) ?? 'a recovery step' };
      }),
  ];
  return candidates.reduce<{ at: number; by: string } | undefined>((first, c) => (first === undefined || c.at < first.at ? c : first), undefined);
}
