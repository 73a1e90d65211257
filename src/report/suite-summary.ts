import type { CheckName, Journal, RunStatus, Verdict } from '../engine/journal-types.js';

/**
 * What one `drill run` did, drill by drill: the source of the summary table, `summary.json` and
 * the JUnit file. Built from the journals (pure); the verdicts are the judge's, never re-judged here.
 */
export type SuiteStatus = RunStatus | 'not-run';

/** One objective: what was measured against its limit, and the judge's verdict on it. */
export interface Objective {
  verdict: 'passed' | 'failed' | 'not-judged';
  /** RTO: the conservative upper bound (DESIGN.md §4); RPO: as measured. Absent when it could not be measured. */
  measuredMs?: number;
  limitMs?: number;
}

export interface SuiteEntry {
  scenario: string;
  /** The scenario file as given (relative to the working directory when below it). */
  file: string;
  status: SuiteStatus;
  /** DESIGN.md §6 for this drill alone; absent when it did not run. */
  exitCode?: number;
  runId?: string;
  /** reports/<run-id>/: journal, incident report, allure-results, evidence. */
  runDir?: string;
  /** Wall time of the drill as `drill run` saw it, harness included. */
  durationMs?: number;
  rto: Objective;
  rpo: Objective;
  integrity: Objective['verdict'];
  failedChecks: Array<{ check: CheckName; message: string; measured?: number; limit?: number }>;
  /** An environment error, refused input found while running, or the interruption. */
  error?: { code: string; message: string };
  /** Why a drill did not run (`--fail-fast`, Ctrl-C). */
  notRun?: string;
}

export interface SuiteSummary {
  summaryVersion: 1;
  startedAt: string;
  endedAt: string;
  /** The exit code of this `drill run` (DESIGN.md §6: the worst of its drills). */
  exitCode: number;
  selection: { tags: string[]; excludeTags: string[]; failFast: boolean };
  counts: Record<SuiteStatus, number>;
  drills: SuiteEntry[];
}

export interface DrillFacts {
  scenario: string;
  file: string;
  runId: string;
  runDir: string;
  durationMs: number;
}

/** A drill that wrote its journal. */
export function entryFromJournal(journal: Journal, facts: DrillFacts, exitCode: number): SuiteEntry {
  const expect = journal.scenario.definition.expect;
  const verdict = (check: CheckName) => journal.verdicts.find((v) => v.check === check);
  const status = journal.status ?? 'environment-error';
  return {
    ...facts,
    status,
    exitCode,
    rto: objective(verdict('rto'), journal.measurements.rtoMs, expect.rto),
    rpo: objective(verdict('rpo'), journal.measurements.rpoMs, expect.rpo),
    integrity: verdict('integrity')?.status ?? 'not-judged',
    failedChecks: journal.verdicts.filter((v) => v.status === 'failed').map(failedCheck),
    ...(journal.error ? { error: journal.error } : {}),
  };
}

/** A drill that ended without a journal (its process died, its network or run dir could not be made). */
export function entryWithoutJournal(facts: Omit<DrillFacts, 'runId' | 'runDir'> & Partial<DrillFacts>, status: RunStatus, exitCode: number, error: { code: string; message: string }): SuiteEntry {
  return { ...facts, status, exitCode, rto: { verdict: 'not-judged' }, rpo: { verdict: 'not-judged' }, integrity: 'not-judged', failedChecks: [], error };
}

export function notRunEntry(scenario: string, file: string, why: string): SuiteEntry {
  return { scenario, file, status: 'not-run', rto: { verdict: 'not-judged' }, rpo: { verdict: 'not-judged' }, integrity: 'not-judged', failedChecks: [], notRun: why };
}

export function countByStatus(entries: readonly SuiteEntry[]): Record<SuiteStatus, number> {
  const counts: Record<SuiteStatus, number> = { passed: 0, failed: 0, 'invalid-input': 0, 'environment-error': 0, interrupted: 0, 'not-run': 0 };
  for (const e of entries) counts[e.status] += 1;
  return counts;
}

function objective(v: Verdict | undefined, measuredMs: number | undefined, limitMs: number): Objective {
  const measured = v?.measured ?? measuredMs;
  return {
    verdict: v?.status ?? 'not-judged',
    ...(measured === undefined ? {} : { measuredMs: measured }),
    limitMs: v?.limit ?? limitMs,
  };
}

function failedCheck(v: Verdict): SuiteEntry['failedChecks'][number] {
  return {
    check: v.check,
    message: v.message,
    ...(v.measured === undefined ? {} : { measured: v.measured }),
    ...(v.limit === undefined ? {} : { limit: v.limit }),
  };
}
