/**
 * Forensics (runbook "Forensic Preservation"): the evidence of a breach was preserved before any
 * step that destroys it ran (a revocation ends the attacker's sessions, a restart the compromised
 * processes), every artifact asked for was collected and is not empty, the extract of the journal
 * reaches back to the leak, and every preserved file still has the sha256 recorded when it was
 * written (hashed again in the verify phase, once the runbook's steps are done; the signed
 * evidence manifest covers the files from then on). Pure over the journal.
 */
import type { ActivityRecord, ForensicsRecord, Journal } from '../engine/journal-types.js';
import { destroysEvidence } from '../scenario/destructive-steps.js';
import { plural, type Assessment } from './assessment.js';
import { formatTime } from './probes.js';

/** Whether the scenario plans a preserve-forensics step (the check applies). */
export function scenarioPreservesForensics(journal: Journal): boolean {
  return journal.scenario.definition.recovery.some((step) => step.step === 'preserve-forensics');
}

export function assessForensics(journal: Journal): Assessment {
  const tFault = journal.marks.tFault?.t;
  const record = journal.forensics;
  if (!record) {
    const step = journal.steps.find((s) => s.name === 'preserve-forensics');
    const why = !step ? 'the step never ran' : step.error ? `preserve-forensics ${step.status}: ${step.error.message}` : `preserve-forensics ${step.status}`;
    return failed(`evidence was never preserved (${why})`, {});
  }
  const problems = [...orderProblems(journal, record, tFault), ...collectionProblems(journal, record), ...recheckProblems(record)];
  const details = {
    preservedAt: record.start.t,
    files: record.artifacts.map((a) => ({ path: a.path, sha256: a.sha256, bytes: a.bytes })),
    gaps: record.gaps,
    firstDestructiveStep: firstDestructive(journal.steps)?.name ?? null,
  };
  if (problems.length > 0) return failed(`forensic evidence not preserved as required: ${problems.join('; ')}`, details);
  const first = firstDestructive(journal.steps);
  const before = first ? `before the first step that destroys evidence (${first.name} at ${formatTime(first.start.t, tFault)})` : 'and no step that destroys evidence ran';
  const kinds = [...new Set(record.artifacts.map((a) => a.kind))].join(', ');
  return {
    verdict: {
      check: 'forensics',
      status: 'passed',
      message: `${plural(record.artifacts.length, 'file')} (${kinds}) preserved at ${formatTime(record.start.t, tFault)} ${before}; every sha256 unchanged at the end of the verify phase`,
      details,
    },
    measurements: {},
  };
}

function failed(message: string, details: Record<string, unknown>): Assessment {
  return { verdict: { check: 'forensics', status: 'failed', message, details }, measurements: {} };
}

/** The first step that ran (not skipped) and destroys evidence. */
function firstDestructive(steps: readonly ActivityRecord[]): ActivityRecord | undefined {
  return steps.filter((s) => s.status !== 'skipped' && destroysEvidence(s.name)).sort((a, b) => a.start.t - b.start.t)[0];
}

function orderProblems(journal: Journal, record: ForensicsRecord, tFault: number | undefined): string[] {
  const early = journal.steps.filter((s) => s.status !== 'skipped' && destroysEvidence(s.name) && s.start.t < record.start.t);
  return early.map((s) => `${s.name} (which destroys evidence) started at ${formatTime(s.start.t, tFault)}, before the evidence was preserved at ${formatTime(record.start.t, tFault)}`);
}

function collectionProblems(journal: Journal, record: ForensicsRecord): string[] {
  const problems = record.gaps.map((g) => `${g.kind} not collected (${g.reason})`);
  const gapped = new Set(record.gaps.map((g) => g.kind));
  for (const kind of record.requested) {
    if (!gapped.has(kind) && !record.artifacts.some((a) => a.kind === kind)) problems.push(`${kind}: nothing collected`);
  }
  for (const a of record.artifacts) if (a.bytes === 0) problems.push(`${a.path} is empty`);
  if (record.requested.length === 0) problems.push('no artifact was requested or available');
  // The journal extract must reach back to the leak, or the attacker's first uses are not in it.
  if (record.requested.includes('attacker-activity')) {
    const leakedBefore = (journal.attacker?.credentials ?? []).filter((c) => c.leakedAt.t < record.window.from.t);
    if (leakedBefore.length > 0) problems.push(`the window of attacker-activity starts after ${leakedBefore.map((c) => c.name).join(', ')} leaked (raise timeRange)`);
  }
  return problems;
}

function recheckProblems(record: ForensicsRecord): string[] {
  if (!record.recheck) return ['the preserved files were never hashed again (the drill ended before the verify phase)'];
  const now = new Map(record.recheck.files.map((f) => [f.path, f.sha256]));
  return record.artifacts.flatMap((a) => {
    if (!now.has(a.path)) return [`${a.path} was not re-checked`];
    const found = now.get(a.path);
    if (found === undefined) return [`${a.path} is gone`];
    return found === a.sha256 ? [] : [`${a.path} changed after it was preserved (sha256 ${found.slice(0, 16)}…, preserved ${a.sha256.slice(0, 16)}…)`];
  });
}
