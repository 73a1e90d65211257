/**
 * Runbook "Performance Validation": the load run after recovery against the baseline run (the
 * runbook's `measure-response-times.sh --baseline`), with the scenario's limits: p99 below
 * p99Ratio × the baseline p99 (unless below p99Floor, where differences are noise), optionally an
 * absolute p99, and at most errorRate failed requests. Pure: reads journal.load and the scenario.
 */
import type { Journal, LoadRun } from '../engine/journal-types.js';
import type { PerformanceLimits } from '../scenario/schema.js';
import { formatDuration } from '../scenario/duration.js';
import type { Assessment } from './assessment.js';

export function scenarioHasLoadCheck(journal: Journal): boolean {
  return (journal.scenario.definition.verify ?? []).some((s) => s.step === 'load');
}

/** Failed share of what was sent: connection errors and timeouts (no answer) and non-2xx answers. */
export function loadErrorRate(run: Pick<LoadRun, 'responses' | 'errors' | 'non2xx'>): number | undefined {
  const sent = run.responses + run.errors;
  return sent === 0 ? undefined : (run.errors + run.non2xx) / sent;
}

const percent = (rate: number) => `${(rate * 100).toFixed(2)}%`;
const ms = (n: number) => `${Math.round(n * 10) / 10} ms`;

export function assessPerformance(journal: Journal, limits: PerformanceLimits = journal.scenario.definition.expect.performance): Assessment {
  const runs = journal.load ?? [];
  const baseline = runs.filter((r) => r.phase === 'baseline').at(-1);
  const after = runs.filter((r) => r.phase === 'verify').at(-1);
  const summary = (r: LoadRun | undefined) =>
    r && { driver: r.driver, path: r.path, responses: r.responses, requestsPerSecond: r.requestsPerSecond, latencyMs: r.latencyMs, errors: r.errors, timeouts: r.timeouts, non2xx: r.non2xx, stoppedBy: r.stoppedBy };
  const details = { limits, baseline: summary(baseline) ?? null, afterRecovery: summary(after) ?? null };
  const fail = (message: string): Assessment => ({ verdict: { check: 'performance', status: 'failed', message, limit: limits.p99Ratio, details }, measurements: {} });
  if (!baseline) return fail('performance cannot be judged: no baseline load run was recorded');
  if (!after) return fail('performance cannot be judged: no load run after recovery was recorded');

  const errorRate = loadErrorRate(after);
  // Latencies are whole milliseconds for some drivers: a 0 ms baseline would make any ratio infinite.
  const ratio = after.latencyMs.p99 / Math.max(baseline.latencyMs.p99, 1);
  const problems: string[] = [];
  if (errorRate === undefined) problems.push('no request of the after-recovery load run got an answer or an error');
  else if (errorRate > limits.errorRate) problems.push(`error rate ${percent(errorRate)} over the limit ${percent(limits.errorRate)} (${after.errors} errors, ${after.non2xx} non-2xx of ${after.responses + after.errors})`);
  const belowFloor = after.latencyMs.p99 < limits.p99Floor;
  if (!belowFloor && ratio >= limits.p99Ratio) {
    problems.push(`p99 ${ms(after.latencyMs.p99)} after recovery is ${ratio.toFixed(1)}× the baseline's ${ms(baseline.latencyMs.p99)} (limit: below ${limits.p99Ratio}×)`);
  }
  if (limits.p99 !== undefined && after.latencyMs.p99 >= limits.p99) {
    problems.push(`p99 ${ms(after.latencyMs.p99)} after recovery is not below ${formatDuration(limits.p99)}`);
  }
  const measurements = { baselineP99Ms: baseline.latencyMs.p99, recoveredP99Ms: after.latencyMs.p99, p99Ratio: Math.round(ratio * 100) / 100, ...(errorRate !== undefined ? { loadErrorRate: errorRate } : {}) };
  const figures =
    `p99 ${ms(after.latencyMs.p99)} after recovery vs ${ms(baseline.latencyMs.p99)} baseline (${ratio.toFixed(1)}×${belowFloor ? `, under the ${formatDuration(limits.p99Floor)} floor` : ''}), ` +
    `${after.requestsPerSecond}/s vs ${baseline.requestsPerSecond}/s, error rate ${errorRate === undefined ? 'unknown' : percent(errorRate)}`;
  return {
    verdict: {
      check: 'performance',
      status: problems.length ? 'failed' : 'passed',
      message: problems.length ? `performance failed: ${problems.join('; ')}` : `performance held: ${figures}`,
      measured: measurements.p99Ratio,
      limit: limits.p99Ratio,
      details: { ...details, ratio: measurements.p99Ratio, errorRate: errorRate ?? null },
    },
    measurements,
  };
}
