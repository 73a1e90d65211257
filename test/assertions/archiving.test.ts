import { describe, expect, it } from 'vitest';
import { assessArchiving, scenarioBreaksArchiving } from '../../src/assertions/archiving.js';
import { judge } from '../../src/assertions/judge.js';
import type { ArchivingFacts, Journal } from '../../src/engine/journal-types.js';
import { deepFreeze, healthyDrill, stamp } from './journal-builder.js';

/** The healthy drill, its fault a wal-archive-stuck, with the archiving facts the verify phase read. */
function stuckArchiveDrill(facts?: Partial<ArchivingFacts>): Journal {
  const journal = healthyDrill().build();
  journal.scenario.definition.faults = [{ type: 'wal-archive-stuck', failWithin: 60_000 }];
  if (facts) {
    journal.archiving = {
      checkedAt: stamp(26_000),
      instance: 'primary',
      switchedWal: '000000010000000000000026',
      failedCountBefore: 40,
      failedCountAfter: 40,
      lastArchivedWalAfter: '000000010000000000000026',
      lastFailedWalAfter: '00000001000000000000000F',
      archived: true,
      waitedMs: 300,
      ...facts,
    };
  }
  return deepFreeze(journal);
}

describe('archiving check', () => {
  it('applies only where a fault broke archiving', () => {
    expect(scenarioBreaksArchiving(healthyDrill().build())).toBe(false);
    expect(judge(healthyDrill().build()).verdicts.some((v) => v.check === 'archiving')).toBe(false);
    expect(scenarioBreaksArchiving(stuckArchiveDrill())).toBe(true);
  });

  it('passes when a segment switched out after recovery was archived without a new archiver failure', () => {
    const { verdict } = assessArchiving(stuckArchiveDrill({}));
    expect(verdict).toMatchObject({ check: 'archiving', status: 'passed', message: expect.stringMatching(/segment 000000010000000000000026 archived within 0\.3s/) });
    expect(judge(stuckArchiveDrill({})).status).toBe('passed');
  });

  it('fails when the segment never reached the archive, naming what pg_stat_archiver says', () => {
    const journal = stuckArchiveDrill({ archived: false, failedCountAfter: 43, lastArchivedWalAfter: null, waitedMs: 15_200 });
    const { verdict } = assessArchiving(journal);
    expect(verdict.status).toBe('failed');
    expect(verdict.message).toMatch(/still broken after recovery on primary: segment 000000010000000000000026 .*not archived within 15\.2s .*last archived none, last failed 00000001000000000000000F, 3 new failures.*fix-archiving/);
    // Every other check passes: only this one fails the drill.
    const judged = judge(journal);
    expect(judged.status).toBe('failed');
    expect(judged.verdicts.filter((v) => v.status === 'failed').map((v) => v.check)).toEqual(['archiving']);
  });

  it('fails when archived but the archiver failed meanwhile, when the facts could not be read, and when they were never read', () => {
    expect(assessArchiving(stuckArchiveDrill({ failedCountAfter: 41 })).verdict.message).toMatch(/failed 1 time while segment/);
    expect(assessArchiving(stuckArchiveDrill({ archived: false, error: 'connection refused' })).verdict).toMatchObject({ status: 'failed', message: expect.stringMatching(/could not be checked on primary: connection refused/) });
    expect(assessArchiving(stuckArchiveDrill()).verdict).toMatchObject({ status: 'failed', message: expect.stringMatching(/never checked/) });
  });
});
