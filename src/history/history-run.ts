import type { CheckName, Journal } from '../engine/journal-types.js';
import type { HistoryRun, Measured } from './types.js';

/**
 * One run as history shows it: the measured RTO (the upper bound, with its lower bound) and RPO,
 * each beside the limit it was judged by. The limit comes from the run's own verdict (a scenario
 * edited later must not re-judge old runs), else from the scenario as that run had it.
 */
export function historyRun(journal: Journal): HistoryRun {
  const def = journal.scenario.definition;
  const m = journal.measurements;
  const measured = (check: CheckName, measuredMs: number | undefined, objective: number): Measured => {
    const verdict = journal.verdicts.find((v) => v.check === check);
    return {
      ...(measuredMs !== undefined ? { measuredMs } : {}),
      limitMs: verdict?.limit ?? objective,
      ...(verdict ? { verdict: verdict.status } : {}),
    };
  };
  const rto = measured('rto', m.rtoMs, def.expect.rto);
  if (m.rtoLowerBoundMs !== undefined && m.rtoMs !== undefined) rto.lowerBoundMs = m.rtoLowerBoundMs;
  return {
    runId: journal.runId,
    startedAt: journal.startedAt,
    status: journal.status ?? 'incomplete',
    ...(journal.error ? { error: journal.error.code } : {}),
    rto,
    // Without a database there is nothing to lose: RPO is not judged, so not shown.
    ...(def.targets.postgres !== undefined ? { rpo: measured('rpo', m.rpoMs, def.expect.rpo) } : {}),
    ...(m.lostWrites !== undefined ? { lostWrites: m.lostWrites } : {}),
  };
}
