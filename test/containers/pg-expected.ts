import { expect } from 'vitest';
import type { Journal, RunStatus } from '../../src/engine/journal-types.js';

/**
 * How each PostgreSQL scenario of the catalogue ends (pg-scenarios.test.ts runs them on the
 * testcontainers provider); test/scenario/negative-control-tag.test.ts holds `failed` here to the
 * scenario's `negative-control` tag.
 */
export interface Expected {
  status: RunStatus;
  failed: string[];
  /** What makes the outcome this scenario's, beyond its verdicts. */
  facts?: (journal: Journal) => void;
}

const output = (journal: Journal, step: string) => journal.steps.find((s) => s.name === step)?.output as Record<string, unknown> | undefined;

export const EXPECTED: Record<string, Expected> = {
  'db-corruption-pitr': {
    status: 'passed',
    failed: [],
    facts: (j) => expect(JSON.stringify(output(j, 'assess-corruption'))).toMatch(/invalid page in block 0/),
  },
  'db-corruption-stale-backup': { status: 'failed', failed: ['rpo'], facts: (j) => expect(j.measurements.rpoMs).toBeGreaterThan(4000) },
  'pg-restore-from-backup': {
    status: 'passed',
    failed: [],
    facts: (j) => {
      expect(j.verdicts.find((v) => v.check === 'detection')?.message).toMatch(/could not open file .*No such file or directory/);
      expect(output(j, 'restore-base-backup')).toMatchObject({ backup: 'backup-1', checksums: { checked: true, badBlocks: [] } });
    },
  },
  'pg-logical-corruption-pitr': { status: 'passed', failed: [], facts: (j) => expect(j.integrity?.tables).toEqual(j.snapshot?.tables) },
  'pg-index-corruption-detect': {
    status: 'passed',
    failed: [],
    facts: (j) => expect(output(j, 'reindex')).toMatchObject({ chosenBy: 'amcheck', rebuilt: [expect.objectContaining({ index: 'transfers_pkey' })] }),
  },
  'pg-restore-skips-verification': {
    status: 'failed',
    failed: ['integrity'],
    facts: (j) => expect(j.verdicts.find((v) => v.check === 'integrity')?.message).toMatch(/invalid page in block 1/),
  },
  'pg-primary-failure-promotion': {
    status: 'passed',
    failed: [],
    facts: (j) => {
      expect(j.measurements.rpoMs).toBe(0);
      expect(j.measurements.walBytesLost).toBeGreaterThanOrEqual(0);
      expect(output(j, 'fence-old-primary')).toMatchObject({ restart: 'came up in recovery (read-only)', leftStopped: true });
    },
  },
  'pg-primary-unreachable-promotion': { status: 'passed', failed: [] },
  'pg-promotion-threshold-too-long': { status: 'failed', failed: ['rto'] },
  'pg-promotion-lagging-replica': {
    status: 'failed',
    failed: ['rpo'],
    facts: (j) => {
      expect(j.measurements.lostWrites).toBeGreaterThan(30);
      expect(j.measurements.walBytesLost).toBeGreaterThan(1000);
    },
  },
  'pg-bad-migration-rollback': { status: 'passed', failed: [], facts: (j) => expect(output(j, 'migration-current')).toMatchObject({ current: '007' }) },
  // The service under drill as plain processes on this side of the engine, against the container's published port.
  'db-corruption-pitr-service': {
    status: 'passed',
    failed: [],
    facts: (j) => expect(j.verifications?.map((v) => `${v.name} ${v.status}`)).toEqual(['smoke passed', 'load passed']),
  },
  'pg-recovered-but-slow': { status: 'failed', failed: ['performance'] },
  'pg-recovered-writes-broken': {
    status: 'failed',
    failed: ['smoke'],
    facts: (j) => expect(j.verdicts.find((v) => v.check === 'smoke')?.message).toMatch(/journey \(verify\): POST \/api\/transfers .*HTTP 500/),
  },
  // Leaked credentials: the service as plain processes, the leaked role logging in to the container's published port.
  'breach-leaked-api-token': { status: 'passed', failed: [], facts: (j) => expect(j.measurements.timeToRevokeMs).toBeGreaterThanOrEqual(0) },
  'breach-leaked-db-password': {
    status: 'passed',
    failed: [],
    facts: (j) => expect(output(j, 'revoke-all-tokens')?.roles).toEqual([{ role: j.attacker!.credentials[0]!.name, sessionsEnded: 1 }]),
  },
  'breach-restart-without-revoke': { status: 'failed', failed: ['revocation'] },
  'breach-revocation-breaks-service': { status: 'failed', failed: ['rto', 'blast-radius'] },
  'breach-password-rotated-sessions-kept': { status: 'failed', failed: ['revocation'] },
};
