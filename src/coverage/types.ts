/**
 * `drill coverage`: the runbook, procedure by procedure, joined with the drills that exercise it.
 * This is also the JSON format (`--format json`), so dashboards read these names.
 */
import type { RunStatus } from '../engine/journal-types.js';

/**
 * - `covered`: the latest drill that performs it passed, within `--since`, on the text as it is now.
 * - `stale`: that drill passed, but longer ago than `--since`.
 * - `failing`: that drill failed.
 * - `changed`: that drill ran on another text of the procedure (recorded by `drill run --runbook`).
 * - `never-drilled`: no drill (their latest judged runs, negative controls aside) performs it.
 */
export type CoverageStatus = 'covered' | 'stale' | 'failing' | 'changed' | 'never-drilled';

/** Whether the procedure's text is the one the deciding drill recorded. */
export type TextCheck = 'same' | 'changed' | 'not-recorded';

export interface Objective {
  /** Measured, ms (RTO: the upper bound, DESIGN.md section 4). Absent when not measured. */
  measuredMs?: number;
  objectiveMs: number;
  /** The drill's own verdict; absent when it has none for this check. */
  verdict?: 'passed' | 'failed';
}

/** The run a procedure's status comes from. */
export interface DecidingRun {
  runId: string;
  scenario: string;
  status: RunStatus;
  endedAt: string;
  rto: Objective;
  rpo: Objective;
}

export interface ProcedureCoverage {
  id: string;
  sectionId: string;
  title: string;
  /** 1-based line in the runbook. */
  line: number;
  status: CoverageStatus;
  /** Scenarios whose latest judged run performs it, latest first. */
  drills: string[];
  last?: DecidingRun;
  textCheck?: TextCheck;
  /** How the deciding run performed it (its actions, and the mapping's note where it is not the runbook's own command). */
  how?: string[];
}

export interface SectionCoverage {
  id: string;
  /** Heading path, e.g. ["Disaster Recovery Scenarios", "Scenario 2: Database Corruption", "Data Recovery"]. */
  path: string[];
  line: number;
  /** Ids of the procedures directly in this section, in runbook order. */
  procedures: string[];
}

export interface CoverageTotals {
  procedures: number;
  covered: number;
  stale: number;
  failing: number;
  changed: number;
  neverDrilled: number;
  /** covered / procedures (0 for a runbook without procedures, which is refused before this). */
  ratio: number;
}

export interface NegativeControlRun {
  scenario: string;
  runId: string;
  status: RunStatus;
  endedAt: string;
  /** A negative control must fail: one that passed means the harness cannot tell a bad recovery. */
  asExpected: boolean;
}

/** Something in the history that could not be joined as it says; reported, never fatal. */
export interface CoverageNote {
  kind: 'section-not-found' | 'unknown-covers' | 'unjudged-run' | 'unreadable-journal' | 'no-journals';
  message: string;
  scenario?: string;
  runId?: string;
  suggestion?: string;
}

export interface CoverageReport {
  runbook: { file: string; sha256: string; title?: string };
  reportsDir: string;
  generatedAt: string;
  since: { text: string; from: string };
  /** Judged runs read (the latest of each scenario is what counts). */
  runsRead: number;
  sections: SectionCoverage[];
  procedures: ProcedureCoverage[];
  totals: CoverageTotals;
  /** Ids of the never-drilled procedures, in runbook order. */
  neverDrilled: string[];
  negativeControls: NegativeControlRun[];
  notes: CoverageNote[];
}
