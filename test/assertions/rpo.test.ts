import { describe, expect, it } from 'vitest';
import { assessRpo } from '../../src/assertions/rpo.js';
import { healthyDrill } from './journal-builder.js';

/** Epoch 1 acks ids 1-99 (tAck 100..9900), fault at 10 s; epoch 2 continues from `epoch2From` at 20.1 s. */
const drill = (epoch2From = 100, skew = 0) =>
  healthyDrill()
    .clearWrites()
    .writes({ from: 100, to: 9_900, epoch: 1, firstId: 1, serverSkewMs: skew })
    .writes({ from: 20_100, to: 40_000, epoch: 2, firstId: epoch2From, serverSkewMs: skew });

describe('assessRpo', () => {
  it('no loss: RPO 0, passes', () => {
    const { verdict, measurements } = assessRpo(healthyDrill().build());
    expect(verdict).toMatchObject({ check: 'rpo', status: 'passed', measured: 0, limit: 3000 });
    expect(verdict.message).toBe('RPO 0ms within 3s: no acknowledged write lost');
    expect(measurements).toEqual({ rpoMs: 0, lostWrites: 0, lostRanges: [], holes: [], lostAfterFault: 0 });
  });

  describe('losing the last pre-fault writes (ids 80-99; epoch 2 continues from 80)', () => {
    const lossy = () => drill(80).lose((ack) => ack.epoch === 1 && ack.id >= 80);

    it('RPO is the gap between the newest ack and the newest surviving ack; passes under the limit', () => {
      const { verdict, measurements } = assessRpo(lossy().build());
      expect(measurements.rpoMs).toBe(9_900 - 7_900);
      expect(measurements).toMatchObject({ lostWrites: 20, lostRanges: [[80, 99]], holes: [], lostAfterFault: 0 });
      expect(verdict.status).toBe('passed');
      expect(verdict.message).toBe('RPO 2s within 3s: 20 acknowledged writes lost (ids 80-99, epoch 1)');
    });

    it('fails above the limit and names the lost range', () => {
      const { verdict } = assessRpo(lossy().expect({ rpo: '1s' }).build());
      expect(verdict).toMatchObject({ status: 'failed', measured: 2000, limit: 1000 });
      expect(verdict.message).toBe('RPO 2s exceeds 1s: 20 acknowledged writes lost (ids 80-99, epoch 1)');
    });

    it('fails when RPO equals the limit (the objective is exclusive)', () => {
      const { verdict } = assessRpo(lossy().expect({ rpo: '2s' }).build());
      expect(verdict.status).toBe('failed');
      expect(verdict.message).toMatch(/^RPO 2s equals the limit 2s/);
    });

    it('an id reused by epoch 2 does not make epoch 1 write survive', () => {
      const journal = lossy().build();
      // The recovered database does hold ids 80-99, but written in epoch 2.
      expect(journal.canary.recovered!.rows.some((row) => row.id === 85 && row.epoch === 2)).toBe(true);
      const { verdict, measurements } = assessRpo(journal);
      expect(measurements.lostRanges).toEqual([[80, 99]]);
      expect(verdict.details!.lost).toEqual([{ epoch: 1, count: 20, ranges: [[80, 99]] }]);
      // 80-99 lie above epoch 1's highest surviving id (79): loss, not holes.
      expect(measurements.holes).toEqual([]);
    });

    it('is unchanged by server clock skew (serverWall one hour off either way)', () => {
      const straight = assessRpo(lossy().build());
      for (const skew of [3_600_000, -3_600_000]) {
        const skewed = drill(80, skew).lose((ack) => ack.epoch === 1 && ack.id >= 80).build();
        expect(skewed.canary.acks[0]!.serverWall).not.toBe(skewed.canary.acks[0]!.clientWall);
        expect(assessRpo(skewed)).toEqual(straight);
      }
    });
  });

  it('reproduces the gap within rounding when acks are jittered', () => {
    const journal = healthyDrill().clearWrites().fault(20_050).writes({ from: 100, to: 20_000 }).lose((ack) => ack.id >= 120).build();
    journal.canary.acks.forEach((ack, i) => (ack.tAck += (i % 7) * 0.37));
    const newest = journal.canary.acks.find((ack) => ack.id === 200)!.tAck;
    const newestSurviving = journal.canary.acks.find((ack) => ack.id === 119)!.tAck;
    const { verdict, measurements } = assessRpo(journal);
    expect(measurements.rpoMs).toBeCloseTo(newest - newestSurviving, 6);
    expect(measurements.rpoMs).toBeCloseTo(8100, -1);
    expect(verdict.message).toBe('RPO 8.1s exceeds 3s: 81 acknowledged writes lost (ids 120-200, epoch 1)');
  });

  it('everything lost: RPO runs from the first acknowledged write, and says so', () => {
    const { verdict, measurements } = assessRpo(drill().lose((ack) => ack.epoch === 1).build());
    expect(measurements).toMatchObject({ rpoMs: 9_900 - 100, lostWrites: 99, lostRanges: [[1, 99]], holes: [] });
    expect(verdict.status).toBe('failed');
    expect(verdict.message).toContain('RPO 9.8s exceeds 3s: 99 acknowledged writes lost (ids 1-99, epoch 1)');
    expect(verdict.message).toContain('every write acknowledged before the fault was lost, so RPO is counted from the first acknowledged write');
    expect(verdict.details).toMatchObject({ everythingLost: true, newestSurvivingPreFault: null });
  });

  it('holes: reported in details and measurements, RPO itself still 0', () => {
    const { verdict, measurements } = assessRpo(drill().lose((ack) => ack.epoch === 1 && (ack.id === 57 || ack.id === 58)).build());
    expect(measurements).toMatchObject({ rpoMs: 0, lostWrites: 2, holes: [[57, 58]] });
    expect(verdict.status).toBe('passed');
    expect(verdict.details!.holes).toEqual([{ epoch: 1, count: 2, ranges: [[57, 58]] }]);
    expect(verdict.message).toContain('holes: ids 57-58, epoch 1 missing below a surviving id (an integrity failure)');
  });

  describe('writes acknowledged after the fault and lost', () => {
    // The writer kept committing to the damaged primary for 1 s (ids 100-109); the restore to
    // before the fault drops them; epoch 2 starts again at 100.
    const split = () =>
      drill()
        .writes({ from: 10_000, to: 10_900, epoch: 1, firstId: 100 })
        .lose((ack) => ack.epoch === 1 && ack.id >= 100);

    it("fails with writesLostAfterFault 'fail' (the default)", () => {
      const { verdict, measurements } = assessRpo(split().build());
      expect(measurements).toMatchObject({ rpoMs: 0, lostWrites: 10, lostAfterFault: 10, lostRanges: [[100, 109]] });
      expect(verdict.status).toBe('failed');
      expect(verdict.message).toBe(
        "10 writes acknowledged after the fault were lost (ids 100-109, epoch 1): split-brain or a discarded timeline, and writesLostAfterFault is 'fail'; " +
          'RPO 0ms within 3s: 10 acknowledged writes lost (ids 100-109, epoch 1), 10 of them acknowledged after the fault',
      );
    });

    it("passes and only reports them with writesLostAfterFault 'report'", () => {
      const { verdict, measurements } = assessRpo(split().expect({ writesLostAfterFault: 'report' }).build());
      expect(measurements.lostAfterFault).toBe(10);
      expect(verdict.status).toBe('passed');
      expect(verdict.message).toBe(
        'RPO 0ms within 3s: 10 acknowledged writes lost (ids 100-109, epoch 1), 10 of them acknowledged after the fault (reported only)',
      );
    });

    it('names the writes acknowledged after a promotion as the split brain\'s', () => {
      // promote-replica completed at 10 500: ids 105-109 were acknowledged by the old primary after it.
      const { verdict } = assessRpo(split().step('promote-replica', 10_200, 10_500).build());
      expect(verdict.status).toBe('failed');
      expect(verdict.message).toContain(
        '5 writes (ids 105-109, epoch 1) were acknowledged after promote-replica had completed and are missing from the new primary: acknowledged by the old primary, still taking writes (split-brain; fence it before promoting)',
      );
      expect(verdict.details).toMatchObject({ promotedAt: 10_500, lostAfterPromotion: [{ epoch: 1, ranges: [[105, 109]] }] });
      // Without a promotion nothing is called split-brain by this rule.
      expect(assessRpo(split().build()).verdict.message).not.toContain('promote-replica');
      // 'report' excuses writes lost after the fault, not those a second primary took after the promotion.
      const reported = assessRpo(split().step('promote-replica', 10_200, 10_500).expect({ writesLostAfterFault: 'report' }).build()).verdict;
      expect(reported.status).toBe('failed');
      expect(reported.message).toMatch(/^5 writes \(ids 105-109, epoch 1\) were acknowledged after promote-replica had completed/);
      // A promotion that completed after the last lost ack: nothing is the split brain's; 'report' passes.
      const before = assessRpo(split().step('promote-replica', 10_950, 11_000).expect({ writesLostAfterFault: 'report' }).build()).verdict;
      expect(before.status).toBe('passed');
      expect(before.details).toMatchObject({ lostAfterPromotion: [] });
    });

    it('names the split brain of a promotion inside another step (activate-dr-site), from its promoted event', () => {
      // activate-dr-site ran 10 200-10 800 and promoted the DR replica at 10 300: ids 103-109 are the old primary's.
      const journal = split().step('activate-dr-site', 10_200, 10_800).build();
      journal.events.push({ t: 10_300, wall: new Date(0).toISOString(), kind: 'promoted', message: 'replica-1 promoted' });
      const { verdict } = assessRpo(journal);
      expect(verdict.status).toBe('failed');
      expect(verdict.message).toContain('7 writes (ids 103-109, epoch 1) were acknowledged after activate-dr-site had promoted the replica and are missing from the new primary');
      expect(verdict.details).toMatchObject({ promotedAt: 10_300, promotedBy: 'activate-dr-site', lostAfterPromotion: [{ epoch: 1, ranges: [[103, 109]] }] });
      // The event inside a promote-replica step: the earlier of the two instants, worded as before.
      const inStep = split().step('promote-replica', 10_200, 10_500).build();
      inStep.events.push({ t: 10_350, wall: new Date(0).toISOString(), kind: 'promoted', message: 'replica-1 promoted' });
      expect(assessRpo(inStep).verdict.message).toContain('6 writes (ids 104-109, epoch 1) were acknowledged after promote-replica had completed');
    });

    it('names the writes lost after a failback promoted the rebuilt primary apart from the split brain of the first promotion', () => {
      // activate-dr-site promoted the DR replica at 10 300; failback promoted the rebuilt primary at 10 600 while the DR still took writes.
      const journal = split().step('activate-dr-site', 10_200, 10_400).step('failback', 10_500, 10_900).build();
      journal.events.push({ t: 10_300, wall: new Date(0).toISOString(), kind: 'promoted', message: 'replica-1 promoted' });
      journal.events.push({ t: 10_650, wall: new Date(0).toISOString(), kind: 'failback-promoted', message: 'primary promoted back', data: { promoteSentAt: 10_600 } });
      const { verdict } = assessRpo(journal);
      expect(verdict.status).toBe('failed');
      expect(verdict.message).toMatch(
        /^4 writes \(ids 106-109, epoch 1\) were acknowledged after failback's switchover began \(the DR position the rebuilt primary had to reach, then its promotion\) and are missing from it: acknowledged by the DR primary, still taking writes \(stop writes on the DR side/,
      );
      expect(verdict.message).toContain('3 writes (ids 103-105, epoch 1) were acknowledged after activate-dr-site had promoted the replica');
      expect(verdict.details).toMatchObject({ failbackPromotedAt: 10_600, lostAfterFailback: [{ epoch: 1, ranges: [[106, 109]] }], lostAfterPromotion: [{ epoch: 1, ranges: [[103, 105]] }] });
      // 'report' does not excuse them either.
      expect(assessRpo(journal, { ...journal.scenario.definition.expect, writesLostAfterFault: 'report' }).verdict.status).toBe('failed');
      // Unfenced, the switchover began when the DR position was read (10 450): the DR's write 105
      // from then on is the failback's loss too, not the first promotion's split brain.
      journal.events.push({ t: 10_450, wall: new Date(0).toISOString(), kind: 'dr-writes-not-fenced', message: 'dr still takes writes' });
      const unfenced = assessRpo(journal).verdict;
      expect(unfenced.message).toMatch(/^5 writes \(ids 105-109, epoch 1\) were acknowledged after failback's switchover began/);
      expect(unfenced.details).toMatchObject({ failbackPromotedAt: 10_450, lostAfterFailback: [{ epoch: 1, ranges: [[105, 109]] }], lostAfterPromotion: [{ epoch: 1, ranges: [[103, 104]] }] });
    });

    it('an ack exactly at T_fault counts as after the fault', () => {
      const journal = drill().writes({ from: 10_000, to: 10_000, epoch: 1, firstId: 100 }).lose((ack) => ack.id === 100 && ack.epoch === 1).build();
      expect(assessRpo(journal).measurements).toMatchObject({ rpoMs: 0, lostAfterFault: 1 });
    });
  });

  it('a corrupted row still survived for RPO (integrity judges it)', () => {
    const { verdict, measurements } = assessRpo(drill().corrupt((ack) => ack.epoch === 1 && ack.id === 99).build());
    expect(measurements).toMatchObject({ rpoMs: 0, lostWrites: 0 });
    expect(verdict.status).toBe('passed');
    expect(verdict.details!.corrupted).toEqual([{ epoch: 1, count: 1, ranges: [[99, 99]] }]);
  });

  it("fails when the recovered database's ledger was never read", () => {
    const { verdict, measurements } = assessRpo(healthyDrill().ledgerNeverRead().build());
    expect(verdict.status).toBe('failed');
    expect(verdict.message).toContain("the recovered database's ledger was never read");
    expect(measurements).toEqual({});
  });

  it('fails when T_fault was never recorded', () => {
    const { verdict } = assessRpo(healthyDrill().fault(undefined).build());
    expect(verdict.status).toBe('failed');
    expect(verdict.message).toContain('T_fault was never recorded');
  });

  it('fails when nothing was acknowledged before the fault', () => {
    const { verdict } = assessRpo(healthyDrill().clearWrites().writes({ from: 20_100, to: 30_000, epoch: 2 }).build());
    expect(verdict.status).toBe('failed');
    expect(verdict.message).toContain('no canary write was acknowledged before T_fault');
  });

  it('never reads serverWall or clientWall', () => {
    const journal = drill(80).lose((ack) => ack.epoch === 1 && ack.id >= 80).build();
    const expected = assessRpo(journal);
    for (const ack of journal.canary.acks) {
      Object.defineProperty(ack, 'serverWall', { get: () => { throw new Error('serverWall read'); } });
      Object.defineProperty(ack, 'clientWall', { get: () => { throw new Error('clientWall read'); } });
    }
    expect(assessRpo(journal)).toEqual(expected);
  });
});

describe('firstPromotion: when a second primary may first take writes', () => {
  const stamp = (t: number) => ({ t, wall: new Date(t).toISOString() });
  it('counts from the instant pg_promote was called (promoteSentAt), not when the event was journaled or the step ended', async () => {
    const { firstPromotion } = await import('../../src/assertions/rpo.js');
    const steps = [{ name: 'promote-replica', phase: 'recover', status: 'passed', start: stamp(1000), end: stamp(6000) }];
    const events = [{ ...stamp(5000), kind: 'promoted', message: 'r promoted', data: { promoteSentAt: 4000 } }];
    expect(firstPromotion({ steps, events } as never)).toEqual({ at: 4000, by: 'promote-replica' });
    // Negative control: an older event without the field falls back to its own time.
    expect(firstPromotion({ steps, events: [{ ...stamp(5000), kind: 'promoted', message: 'r promoted' }] } as never)).toEqual({ at: 5000, by: 'promote-replica' });
  });
});
