/**
 * Archiving (issue 12, "Disks"): a drill whose fault broke WAL archiving has recovered only when
 * archiving works again, not when the server is back up: without it the WAL piles up until the
 * volume is full once more, and point-in-time recovery has a gap. Judged from the facts the verify
 * phase read on the recovered primary: a segment switched out after recovery reached the archive
 * and the archiver did not fail meanwhile. Pure over the journal.
 */
import type { Journal } from '../engine/journal-types.js';
import { breaksArchiving } from '../scenario/fault-effects.js';
import type { Assessment } from './assessment.js';

/** Whether the check applies: the scenario has a fault that breaks archiving. */
export function scenarioBreaksArchiving(journal: Journal): boolean {
  return breaksArchiving(journal.scenario.definition);
}

export function assessArchiving(journal: Journal): Assessment {
  const facts = journal.archiving;
  const failed = (message: string): Assessment => ({ verdict: { check: 'archiving', status: 'failed', message, ...(facts ? { details: { ...facts } } : {}) }, measurements: {} });
  if (!facts) return failed('archiving after recovery was never checked (the verify phase did not read pg_stat_archiver)');
  if (facts.error !== undefined) return failed(`archiving after recovery could not be checked on ${facts.instance}: ${facts.error}`);
  const newFailures = (facts.failedCountAfter ?? 0) - (facts.failedCountBefore ?? 0);
  const seconds = `${Math.round(facts.waitedMs / 100) / 10}s`;
  if (!facts.archived) {
    return failed(
      `WAL archiving still broken after recovery on ${facts.instance}: segment ${facts.switchedWal ?? '?'} (switched out after recovery) was not archived within ${seconds} ` +
        `(pg_stat_archiver: last archived ${facts.lastArchivedWalAfter ?? 'none'}, last failed ${facts.lastFailedWalAfter ?? 'none'}, ${newFailures} new failure${newFailures === 1 ? ''  : 's'}); ` +
        'repair archive_command (fix-archiving) before declaring recovery',
    );
  }
  if (newFailures > 0) {
    return failed(`WAL archiving on ${facts.instance} failed ${newFailures} time${newFailures === 1 ? '' : 's'} while segment ${facts.switchedWal} was archived after recovery (last failed: ${facts.lastFailedWalAfter ?? '?'})`);
  }
  return {
    verdict: {
      check: 'archiving',
      status: 'passed',
      message: `WAL archiving works after recovery: segment ${facts.switchedWal} archived within ${seconds} of being switched out, no archiver failure meanwhile`,
      details: { ...facts },
    },
    measurements: {},
  };
}
