import type { Journal } from '../engine/journal-types.js';
import { suggestProcedureId } from '../runbook/procedure-ids.js';
import { performedProcedures, plannedActions, scenarioScope } from '../runbook/scope.js';
import type { Runbook } from '../runbook/types.js';
import type { CoverageNote, CoverageReport, CoverageStatus, DecidingRun, NegativeControlRun, ProcedureCoverage, TextCheck } from './types.js';

export const NEGATIVE_CONTROL_TAG = 'negative-control';

export interface JoinOptions {
  now: Date;
  sinceMs: number;
  /** As the user wrote it, for the report. */
  sinceText: string;
  reportsDir: string;
  /** What reading the reports directory found wrong (unreadable journals). */
  readNotes?: CoverageNote[];
}

type JudgedJournal = Journal & { status: 'passed' | 'failed'; endedAt: string };

/**
 * The join, a pure function of the runbook and the journals (DESIGN.md: judge from the journal).
 *
 * Per scenario only its latest judged run counts (passed or failed; a run that ended in an
 * environment error, was interrupted or refused its input judged nothing). Scenarios tagged
 * `negative-control` must fail: they prove the harness can fail a bad recovery, not that a
 * procedure works, so they are listed apart and count for nothing. A run performs the procedures
 * in its scenario's scope (src/runbook/scope.ts) that its recovery steps, verify steps and integrity checks
 * perform (src/recovery/runbook-performs.ts), and the ones its `covers:` names. A procedure's
 * status comes from the latest of the runs that perform it.
 */
export function joinCoverage(runbook: Runbook, journals: readonly Journal[], options: JoinOptions): CoverageReport {
  const notes: CoverageNote[] = [...(options.readNotes ?? [])];
  const byScenario = new Map<string, Journal[]>();
  for (const journal of journals) {
    const name = journal.scenario.definition.name;
    byScenario.set(name, [...(byScenario.get(name) ?? []), journal]);
  }

  const latest: JudgedJournal[] = [];
  for (const [scenario, runs] of byScenario) {
    const judged = runs.filter(isJudged).sort((a, b) => Date.parse(b.endedAt) - Date.parse(a.endedAt));
    const newest = [...runs].sort((a, b) => Date.parse(b.startedAt) - Date.parse(a.startedAt))[0]!;
    if (!isJudged(newest)) {
      notes.push({
        kind: 'unjudged-run',
        scenario,
        runId: newest.runId,
        message: `the latest run of ${scenario} ended ${newest.status ?? 'without a status'} and judged nothing; ${judged[0] ? `its latest judged run ${judged[0].runId} counts` : 'it has no judged run'}`,
      });
    }
    if (judged[0]) latest.push(judged[0]);
  }

  const negativeControls: NegativeControlRun[] = [];
  const performing = new Map<string, Array<{ journal: JudgedJournal; how: string[] }>>();
  for (const journal of latest) {
    const definition = journal.scenario.definition;
    if (definition.tags.includes(NEGATIVE_CONTROL_TAG)) {
      negativeControls.push({ scenario: definition.name, runId: journal.runId, status: journal.status, endedAt: journal.endedAt, asExpected: journal.status === 'failed' });
      continue;
    }
    const scope = scenarioScope(runbook, definition);
    if (scope.refProblem) {
      notes.push({ kind: 'section-not-found', scenario: definition.name, runId: journal.runId, message: `runbook: ${scope.refProblem.message}`, ...(scope.refProblem.suggestion ? { suggestion: scope.refProblem.suggestion } : {}) });
    }
    for (const id of scope.unknownCovers) {
      notes.push({ kind: 'unknown-covers', scenario: definition.name, runId: journal.runId, message: `covers: "${id}" is no procedure of ${runbook.file}`, ...suggestId(runbook, id) });
    }
    const performed = performedProcedures(scope, plannedActions(definition, stepOutputs(journal), verifyOutputs(journal)), definition.covers ?? []);
    for (const [id, how] of performed) performing.set(id, [...(performing.get(id) ?? []), { journal, how }]);
  }

  const earliest = options.now.getTime() - options.sinceMs;
  const procedures = runbook.procedures.map((procedure): ProcedureCoverage => {
    const runs = (performing.get(procedure.id) ?? []).sort((a, b) => Date.parse(b.journal.endedAt) - Date.parse(a.journal.endedAt));
    const base = { id: procedure.id, sectionId: procedure.sectionId, title: procedure.title, line: procedure.line, drills: runs.map((r) => r.journal.scenario.definition.name) };
    const deciding = runs[0];
    if (!deciding) return { ...base, status: 'never-drilled' };
    const { journal } = deciding;
    const recorded = journal.runbook?.procedures;
    const textCheck: TextCheck = !recorded ? 'not-recorded' : recorded[procedure.id] === procedure.sha256 ? 'same' : 'changed';
    const status: CoverageStatus =
      textCheck === 'changed' ? 'changed' : journal.status === 'failed' ? 'failing' : Date.parse(journal.endedAt) >= earliest ? 'covered' : 'stale';
    return { ...base, status, last: decidingRun(journal), textCheck, how: deciding.how };
  });

  const count = (status: CoverageStatus) => procedures.filter((p) => p.status === status).length;
  const covered = count('covered');
  return {
    runbook: { file: runbook.file, sha256: runbook.sha256, ...(runbook.title ? { title: runbook.title } : {}) },
    reportsDir: options.reportsDir,
    generatedAt: options.now.toISOString(),
    since: { text: options.sinceText, from: new Date(earliest).toISOString() },
    runsRead: journals.filter(isJudged).length,
    sections: runbook.sections.map((s) => ({ id: s.id, path: s.path, line: s.line, procedures: procedures.filter((p) => p.sectionId === s.id).map((p) => p.id) })),
    procedures,
    totals: {
      procedures: procedures.length,
      covered,
      stale: count('stale'),
      failing: count('failing'),
      changed: count('changed'),
      neverDrilled: count('never-drilled'),
      ratio: procedures.length === 0 ? 0 : covered / procedures.length,
    },
    neverDrilled: procedures.filter((p) => p.status === 'never-drilled').map((p) => p.id),
    negativeControls,
    notes: journals.length === 0 ? [{ kind: 'no-journals', message: `no drill journals in ${options.reportsDir}: every procedure is never drilled. Run drills into it first (npx drill run <scenario.yaml> --runbook <runbook.md> --reports-dir ${options.reportsDir})` }, ...notes] : notes,
  };
}

function isJudged(journal: Journal): journal is JudgedJournal {
  return (journal.status === 'passed' || journal.status === 'failed') && typeof journal.endedAt === 'string';
}

/** The recorded output of each recovery step, by its index in the scenario (undefined when it did not run). */
function stepOutputs(journal: Journal): Array<Record<string, unknown> | undefined> {
  return journal.scenario.definition.recovery.map((step, index) => {
    const record = journal.steps[index];
    return record && record.name === step.step && record.status !== 'skipped' ? record.output : undefined;
  });
}

/** The recorded output of each verify step (`verify:`), by its index in the scenario (undefined when it did not run). */
function verifyOutputs(journal: Journal): Array<Record<string, unknown> | undefined> {
  return (journal.scenario.definition.verify ?? []).map((step, index) => {
    const record = journal.verifications?.[index];
    return record && record.name === step.step && record.status !== 'skipped' ? record.output : undefined;
  });
}

function decidingRun(journal: JudgedJournal): DecidingRun {
  const { measurements, verdicts } = journal;
  const verdict = (check: 'rto' | 'rpo') => verdicts.find((v) => v.check === check)?.status;
  const expect = journal.scenario.definition.expect;
  const rtoVerdict = verdict('rto');
  const rpoVerdict = verdict('rpo');
  return {
    runId: journal.runId,
    scenario: journal.scenario.definition.name,
    status: journal.status,
    endedAt: journal.endedAt,
    rto: { objectiveMs: expect.rto, ...(measurements.rtoMs !== undefined ? { measuredMs: measurements.rtoMs } : {}), ...(rtoVerdict ? { verdict: rtoVerdict } : {}) },
    rpo: { objectiveMs: expect.rpo, ...(measurements.rpoMs !== undefined ? { measuredMs: measurements.rpoMs } : {}), ...(rpoVerdict ? { verdict: rpoVerdict } : {}) },
  };
}

function suggestId(runbook: Runbook, id: string): { suggestion?: string } {
  const suggestion = suggestProcedureId(runbook, id);
  return suggestion ? { suggestion } : {};
}
