/**
 * Integrity (DESIGN.md section 4): the canary ledger (holes, checksums, commit times within each
 * write's own request: ledger-timestamps.ts), row counts and per-table content checksums
 * against the snapshot at the recovery target, foreign keys, amcheck and page checksums. Only the
 * checks the scenario lists are judged; a listed check that could not run fails.
 */
import type { DatasetSnapshot, IntegrityFacts, Journal } from '../engine/journal-types.js';
import type { IntegrityCheck } from '../scenario/schema.js';
import { plural, type Assessment, type Expect } from './assessment.js';
import { analyseLedger } from './ledger.js';
import { describeWorst, misstampedWrites, wallOrigin } from './ledger-timestamps.js';
import { describeEpochRanges } from './ranges.js';

export const INTEGRITY_CHECKS = [
  'ledger',
  'row-counts',
  'checksums',
  'foreign-keys',
  'amcheck',
  'page-checksums',
] as const satisfies readonly IntegrityCheck[];

export interface IntegritySubCheck {
  /** A requested check, or `unattributed` for collection errors that name no known check. */
  check: IntegrityCheck | 'unattributed';
  status: 'passed' | 'failed';
  message: string;
  problems: string[];
}

const NO_FACTS = 'integrity facts were never collected from the recovered instance';
const NO_SNAPSHOT = 'no dataset snapshot was taken at the recovery target, so there is nothing to compare with';

function ledgerProblems(journal: Journal): string[] {
  const { acks, recovered } = journal.canary;
  if (recovered === undefined) return ["the recovered database's ledger was never read"];
  if (acks.length === 0) return ['no canary write was acknowledged, so the ledger has nothing to check'];
  const ledger = analyseLedger(acks, recovered.rows);
  const problems: string[] = [];
  if (ledger.holeCount > 0) {
    problems.push(`${plural(ledger.holeCount, 'hole')}: ${describeEpochRanges(ledger.holes)} missing below a surviving id`);
  }
  if (ledger.corruptedCount > 0) {
    problems.push(
      `${plural(ledger.corruptedCount, 'row')} ${ledger.corruptedCount === 1 ? 'fails its' : 'fail their'} payload checksum (${describeEpochRanges(ledger.corrupted)})`,
    );
  }
  const origin = wallOrigin(journal);
  const misstamped = origin === undefined ? undefined : misstampedWrites(acks, recovered.rows, origin);
  if (misstamped && misstamped.count > 0) {
    problems.push(
      `${plural(misstamped.count, 'acknowledged write')} stamped outside ${misstamped.count === 1 ? 'its' : 'their'} own request (${describeEpochRanges(misstamped.writes)}; ` +
        `up to ${describeWorst(misstamped.worstMs)} off): a clock other than the true one stamped ${misstamped.count === 1 ? 'it' : 'them'}, so ordering by time is wrong`,
    );
  }
  return problems;
}

function tableProblems(
  facts: IntegrityFacts | undefined,
  snapshot: DatasetSnapshot | undefined,
  compare: (table: string, recovered: { rows: number; checksum: string }, before: { rows: number; checksum: string }) => string | undefined,
): string[] {
  if (facts === undefined) return [NO_FACTS];
  if (snapshot === undefined) return [NO_SNAPSHOT];
  const tables = [...new Set([...Object.keys(snapshot.tables), ...Object.keys(facts.tables)])].sort();
  if (tables.length === 0) return ['neither the snapshot nor the recovered instance lists a table'];
  const problems: string[] = [];
  for (const table of tables) {
    const after = facts.tables[table];
    const before = snapshot.tables[table];
    if (after === undefined) problems.push(`${table}: missing after recovery (in the snapshot "${snapshot.label}")`);
    else if (before === undefined) problems.push(`${table}: not in the snapshot "${snapshot.label}"`);
    else {
      const problem = compare(table, after, before);
      if (problem !== undefined) problems.push(problem);
    }
  }
  return problems;
}

function checkProblems(check: IntegrityCheck, journal: Journal): string[] {
  const facts = journal.integrity;
  switch (check) {
    case 'ledger':
      return ledgerProblems(journal);
    case 'row-counts':
      return tableProblems(facts, journal.snapshot, (table, after, before) =>
        after.rows === before.rows ? undefined : `${table}: ${after.rows} rows, snapshot has ${before.rows}`,
      );
    case 'checksums':
      return tableProblems(facts, journal.snapshot, (table, after, before) =>
        after.checksum === before.checksum ? undefined : `${table}: content checksum ${after.checksum} differs from the snapshot's ${before.checksum}`,
      );
    case 'foreign-keys': {
      if (facts === undefined) return [NO_FACTS];
      if (facts.foreignKeys.length === 0) return ['no foreign key was checked'];
      return facts.foreignKeys
        .filter((fk) => fk.violations !== 0)
        .map((fk) => `${fk.constraint} on ${fk.table}: ${plural(fk.violations, 'violation')}`);
    }
    case 'amcheck': {
      if (facts === undefined) return [NO_FACTS];
      return facts.amcheck.map(
        (finding) => `${finding.kind} ${finding.relation}${finding.block !== undefined ? ` block ${finding.block}` : ''}: ${finding.message}`,
      );
    }
    case 'page-checksums': {
      if (facts === undefined) return [NO_FACTS];
      return facts.pageChecksumFailures === 0 ? [] : [plural(facts.pageChecksumFailures, 'page checksum failure')];
    }
  }
}

const summarise = (problems: string[], max = 3): string =>
  problems.length <= max ? problems.join('; ') : `${problems.slice(0, max).join('; ')}; and ${problems.length - max} more`;

export function assessIntegrity(journal: Journal, expect: Pick<Expect, 'integrity'> = journal.scenario.definition.expect): Assessment {
  const requested = [...new Set(expect.integrity)];
  const errors = journal.integrity?.errors ?? [];
  const known = new Set<string>(INTEGRITY_CHECKS);

  const checks: IntegritySubCheck[] = requested.map((check) => {
    const couldNotRun = errors.filter((error) => error.check === check).map((error) => `could not run: ${error.message}`);
    const problems = [...couldNotRun, ...checkProblems(check, journal)];
    return {
      check,
      status: problems.length ? 'failed' : 'passed',
      message: problems.length ? summarise(problems) : 'ok',
      problems,
    };
  });
  const unattributed = errors.filter((error) => !known.has(error.check));
  if (unattributed.length) {
    const problems = unattributed.map((error) => `${error.check} could not run: ${error.message}`);
    checks.push({ check: 'unattributed', status: 'failed', message: summarise(problems), problems });
  }
  const notRequested = errors.filter((error) => known.has(error.check) && !requested.includes(error.check as IntegrityCheck));

  const failed = checks.filter((check) => check.status === 'failed');
  const message =
    failed.length > 0
      ? `integrity failed: ${failed.map((check) => `${check.check} (${check.message})`).join('; ')}`
      : requested.length > 0
        ? `integrity held: ${requested.join(', ')}`
        : 'no integrity check requested';
  return {
    verdict: {
      check: 'integrity',
      status: failed.length ? 'failed' : 'passed',
      message,
      details: {
        requested,
        checks,
        ...(notRequested.length ? { errorsOfChecksNotRequested: notRequested } : {}),
        ...(journal.integrity ? { instance: journal.integrity.instance, checkedAt: journal.integrity.checkedAt } : {}),
        ...(journal.snapshot ? { snapshot: { label: journal.snapshot.label, instance: journal.snapshot.instance } } : {}),
      },
    },
    measurements: {},
  };
}
