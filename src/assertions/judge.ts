/**
 * All assertions over one journal, in a fixed order. Pure: the journal is read, never changed,
 * and the same journal always yields the same judgement.
 */
import type { Journal, Measurements, Verdict } from '../engine/journal-types.js';
import type { Assessment } from './assessment.js';
import { assessDetection } from './detection.js';
import { assessIntegrity } from './integrity.js';
import { assessRecoverySteps } from './recovery-steps.js';
import { assessRpo } from './rpo.js';
import { assessRto } from './rto.js';
import { assessSteadyState } from './steady-state.js';

export interface Judgement {
  verdicts: Verdict[];
  measurements: Measurements;
  status: 'passed' | 'failed';
}

const ASSERTIONS: ReadonlyArray<(journal: Journal) => Assessment> = [
  assessSteadyState,
  assessDetection,
  assessRto,
  assessRpo,
  assessIntegrity,
  assessRecoverySteps,
];

/** Data-loss assertions need a database: a drill without one is judged on the rest. */
const NEEDS_DATABASE = new Set<(journal: Journal) => Assessment>([assessRpo, assessIntegrity]);

export function judge(journal: Journal): Judgement {
  const hasDatabase = journal.scenario.definition.targets.postgres !== undefined;
  const assessments = ASSERTIONS.filter((assess) => hasDatabase || !NEEDS_DATABASE.has(assess)).map((assess) => assess(journal));
  // WAL bytes lost need LSNs the engine knows and the journal does not carry: keep what it recorded.
  const measurements: Measurements = {};
  if (journal.measurements.walBytesLost !== undefined) measurements.walBytesLost = journal.measurements.walBytesLost;
  for (const { measurements: found } of assessments) {
    for (const [key, value] of Object.entries(found)) {
      if (value !== undefined) (measurements as Record<string, unknown>)[key] = value;
    }
  }
  const verdicts = assessments.map(({ verdict }) => verdict);
  return { verdicts, measurements, status: verdicts.every((verdict) => verdict.status === 'passed') ? 'passed' : 'failed' };
}
