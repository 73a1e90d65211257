import { describe, expect, it } from 'vitest';
import { assessIntegrity, type IntegritySubCheck } from '../../src/assertions/integrity.js';
import type { Verdict } from '../../src/engine/journal-types.js';
import { healthyDrill } from './journal-builder.js';

const sub = (verdict: Verdict, check: string): IntegritySubCheck | undefined =>
  (verdict.details!.checks as IntegritySubCheck[]).find((c) => c.check === check);
const failedChecks = (verdict: Verdict): string[] =>
  (verdict.details!.checks as IntegritySubCheck[]).filter((c) => c.status === 'failed').map((c) => c.check);

const recoveredTables = {
  accounts: { rows: 200, checksum: 'md5-accounts-0001' },
  transfers: { rows: 2000, checksum: 'md5-transfers-0001' },
};

describe('assessIntegrity', () => {
  it('passes when every requested check holds, listing each in details', () => {
    const { verdict } = assessIntegrity(healthyDrill().build());
    expect(verdict).toMatchObject({ check: 'integrity', status: 'passed' });
    expect(verdict.message).toBe('integrity held: ledger, row-counts, checksums, foreign-keys, amcheck, page-checksums');
    expect((verdict.details!.checks as IntegritySubCheck[]).map((c) => [c.check, c.status])).toEqual([
      ['ledger', 'passed'],
      ['row-counts', 'passed'],
      ['checksums', 'passed'],
      ['foreign-keys', 'passed'],
      ['amcheck', 'passed'],
      ['page-checksums', 'passed'],
    ]);
  });

  describe('ledger', () => {
    it('fails acknowledged writes stamped outside their own request (a skewed clock stamped them), not a database a few seconds off', () => {
      const skewed = healthyDrill()
        .clearWrites()
        .writes({ from: 100, to: 9_900, epoch: 1, firstId: 1 })
        .writes({ from: 20_100, to: 20_500, epoch: 2, firstId: 100, serverSkewMs: 7_200_000 })
        .writes({ from: 20_600, to: 40_000, epoch: 2, firstId: 105 })
        .build();
      const { verdict } = assessIntegrity(skewed);
      expect(failedChecks(verdict)).toEqual(['ledger']);
      expect(verdict.message).toBe(
        'integrity failed: ledger (5 acknowledged writes stamped outside their own request (ids 100-104, epoch 2; up to +2h off): a clock other than the true one stamped them, so ordering by time is wrong)',
      );
      // A database clock 3 s off either way is within the slack; an hour behind is not.
      for (const [skew, status] of [[3000, 'passed'], [-3000, 'passed'], [-3_600_000, 'failed']] as const) {
        const journal = healthyDrill().clearWrites().writes({ from: 100, to: 9_900, epoch: 1, firstId: 1, serverSkewMs: skew }).writes({ from: 20_100, to: 40_000, epoch: 2, firstId: 100 }).build();
        expect(sub(assessIntegrity(journal).verdict, 'ledger')?.status, String(skew)).toBe(status);
      }
    });

    it('fails on holes and names the hole ids', () => {
      const journal = healthyDrill().lose((ack) => ack.epoch === 1 && [57, 58, 61].includes(ack.id)).build();
      const { verdict } = assessIntegrity(journal);
      expect(verdict.status).toBe('failed');
      expect(failedChecks(verdict)).toEqual(['ledger']);
      expect(verdict.message).toBe('integrity failed: ledger (3 holes: ids 57-58 and 61, epoch 1 missing below a surviving id)');
    });

    it('counts an unacknowledged recovered row as proof its epoch got that far', () => {
      // Epoch 1's last ack (99) is lost, but the commit of id 100 (its ack lost in flight) is there.
      const journal = healthyDrill()
        .lose((ack) => ack.epoch === 1 && ack.id === 99)
        .extraRecoveredRows({ id: 100, epoch: 1, checksumOk: true })
        .build();
      expect(sub(assessIntegrity(journal).verdict, 'ledger')!.message).toBe('1 hole: id 99, epoch 1 missing below a surviving id');
    });

    it('a loss at the tail of an epoch is not a hole', () => {
      const journal = healthyDrill().lose((ack) => ack.epoch === 1 && ack.id >= 90).build();
      expect(assessIntegrity(journal).verdict.status).toBe('passed');
    });

    it('fails on a row whose payload checksum no longer matches', () => {
      const { verdict } = assessIntegrity(healthyDrill().corrupt((ack) => ack.epoch === 2 && ack.id === 142).build());
      expect(verdict.status).toBe('failed');
      expect(sub(verdict, 'ledger')!.message).toBe('1 row fails its payload checksum (id 142, epoch 2)');
    });

    it("fails when the recovered database's ledger was never read", () => {
      const { verdict } = assessIntegrity(healthyDrill().ledgerNeverRead().build());
      expect(verdict.message).toBe("integrity failed: ledger (the recovered database's ledger was never read)");
    });
  });

  it('row-counts: fails on a count mismatch, naming table and both counts', () => {
    const journal = healthyDrill()
      .integrity({ tables: { ...recoveredTables, transfers: { rows: 1990, checksum: 'md5-transfers-0001' } } })
      .build();
    const { verdict } = assessIntegrity(journal);
    expect(failedChecks(verdict)).toEqual(['row-counts']);
    expect(verdict.message).toBe('integrity failed: row-counts (transfers: 1990 rows, snapshot has 2000)');
  });

  it('checksums: fails on a content checksum mismatch', () => {
    const journal = healthyDrill()
      .integrity({ tables: { ...recoveredTables, accounts: { rows: 200, checksum: 'md5-accounts-BAD' } } })
      .build();
    const { verdict } = assessIntegrity(journal);
    expect(failedChecks(verdict)).toEqual(['checksums']);
    expect(verdict.message).toBe(
      "integrity failed: checksums (accounts: content checksum md5-accounts-BAD differs from the snapshot's md5-accounts-0001)",
    );
  });

  it('row-counts and checksums: a table missing on either side fails', () => {
    const journal = healthyDrill()
      .integrity({ tables: { accounts: recoveredTables.accounts, audit: { rows: 1, checksum: 'x' } } })
      .build();
    const { verdict } = assessIntegrity(journal);
    expect(failedChecks(verdict)).toEqual(['row-counts', 'checksums']);
    expect(sub(verdict, 'row-counts')!.problems).toEqual([
      'audit: not in the snapshot "recovery target: before fault"',
      'transfers: missing after recovery (in the snapshot "recovery target: before fault")',
    ]);
  });

  it('foreign-keys: fails on a violation', () => {
    const journal = healthyDrill()
      .integrity({
        foreignKeys: [
          { constraint: 'transfers_from_account_fkey', table: 'transfers', violations: 3 },
          { constraint: 'transfers_to_account_fkey', table: 'transfers', violations: 0 },
        ],
      })
      .build();
    const { verdict } = assessIntegrity(journal);
    expect(verdict.message).toBe('integrity failed: foreign-keys (transfers_from_account_fkey on transfers: 3 violations)');
  });

  it('foreign-keys: fails when no foreign key was checked', () => {
    const { verdict } = assessIntegrity(healthyDrill().integrity({ foreignKeys: [] }).build());
    expect(verdict.message).toBe('integrity failed: foreign-keys (no foreign key was checked)');
  });

  it('amcheck: fails on a finding', () => {
    const journal = healthyDrill()
      .integrity({ amcheck: [{ relation: 'public.transfers', kind: 'heap', block: 0, message: 'line pointer length 12 is less than the minimum tuple header size' }] })
      .build();
    const { verdict } = assessIntegrity(journal);
    expect(verdict.message).toBe(
      'integrity failed: amcheck (heap public.transfers block 0: line pointer length 12 is less than the minimum tuple header size)',
    );
  });

  it('page-checksums: fails on a page checksum failure', () => {
    const { verdict } = assessIntegrity(healthyDrill().integrity({ pageChecksumFailures: 2 }).build());
    expect(verdict.message).toBe('integrity failed: page-checksums (2 page checksum failures)');
  });

  it('a requested check that errored fails, never passes', () => {
    const journal = healthyDrill().integrity({ errors: [{ check: 'amcheck', message: 'extension "amcheck" is not available' }] }).build();
    const { verdict } = assessIntegrity(journal);
    expect(verdict.status).toBe('failed');
    expect(verdict.message).toBe('integrity failed: amcheck (could not run: extension "amcheck" is not available)');
  });

  it('an error naming no known check fails; one of an unrequested check is only listed', () => {
    const journal = healthyDrill()
      .expect({ integrity: ['ledger', 'row-counts'] })
      .integrity({
        errors: [
          { check: 'connect', message: 'ECONNREFUSED 127.0.0.1:54330' },
          { check: 'amcheck', message: 'extension "amcheck" is not available' },
        ],
      })
      .build();
    const { verdict } = assessIntegrity(journal);
    expect(failedChecks(verdict)).toEqual(['unattributed']);
    expect(verdict.message).toBe('integrity failed: unattributed (connect could not run: ECONNREFUSED 127.0.0.1:54330)');
    expect(verdict.details!.errorsOfChecksNotRequested).toEqual([{ check: 'amcheck', message: 'extension "amcheck" is not available' }]);
  });

  it('only the requested checks are judged', () => {
    const journal = healthyDrill()
      .expect({ integrity: ['ledger'] })
      .integrity({ pageChecksumFailures: 5, amcheck: [{ relation: 'x', kind: 'btree', message: 'bad' }] })
      .build();
    expect(assessIntegrity(journal).verdict).toMatchObject({ status: 'passed', message: 'integrity held: ledger' });
  });

  it('missing snapshot fails the checks that compare with it', () => {
    const { verdict } = assessIntegrity(healthyDrill().snapshot(undefined).build());
    expect(failedChecks(verdict)).toEqual(['row-counts', 'checksums']);
    expect(sub(verdict, 'row-counts')!.message).toBe('no dataset snapshot was taken at the recovery target, so there is nothing to compare with');
  });

  it('missing integrity facts fail every check that needs them', () => {
    const { verdict } = assessIntegrity(healthyDrill().integrity(undefined).build());
    expect(failedChecks(verdict)).toEqual(['row-counts', 'checksums', 'foreign-keys', 'amcheck', 'page-checksums']);
    expect(sub(verdict, 'amcheck')!.message).toBe('integrity facts were never collected from the recovered instance');
  });
});
