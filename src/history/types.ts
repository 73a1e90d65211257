/** `drill history`: RTO and RPO of each scenario's runs over time, against the limits they were judged by. */
import type { RunStatus } from '../engine/journal-types.js';

export interface Measured {
  /** As measured: for RTO the upper bound (the restored instant); absent when the run never got there. */
  measuredMs?: number;
  /** RTO only: the failing sample before the restored instant (the true RTO lies between the two). */
  lowerBoundMs?: number;
  /** The limit the run was judged by (its verdict's), else the scenario's objective as run. */
  limitMs: number;
  /** The run's own verdict on it; absent when it was not judged. */
  verdict?: 'passed' | 'failed';
}

export interface HistoryRun {
  runId: string;
  startedAt: string;
  status: RunStatus | 'incomplete';
  /** The run's error code when it ended with one (environment-error, interrupted, invalid-input). */
  error?: string;
  rto: Measured;
  /** Absent for a scenario without a database: no data to lose, RPO is not judged. */
  rpo?: Measured;
  /** Acknowledged writes lost, when the ledger was read back. */
  lostWrites?: number;
}

export interface ScenarioHistory {
  scenario: string;
  title: string;
  /** Oldest first. */
  runs: HistoryRun[];
}

export interface HistoryNote {
  kind: 'unreadable-journal' | 'not-a-run' | 'killed-run' | 'no-runs';
  message: string;
  runId?: string;
}

export interface HistoryReport {
  reportsDir: string;
  /** The `--scenario` filter, when one was given. */
  scenario?: string;
  scenarios: ScenarioHistory[];
  /** Run dirs that could not be read or are not drill runs: reported, never fatal. */
  notes: HistoryNote[];
}
