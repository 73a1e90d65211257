/**
 * What a drill's Allure result carries beyond prose, for people who filter and compare in the
 * Allure report: each check's measured value and limit as parameters, a label per failed check
 * (which the report's categories group by: RTO breach, RPO breach, integrity, environment), and the
 * run's environment (versions, platform) as `environment.properties`. Description only, from the
 * journal's verdicts: pass/fail is decided by src/assertions.
 */
import type { CheckName, Journal, Verdict } from '../engine/journal-types.js';
import { formatDuration, formatDurationBound } from '../scenario/duration.js';

/** The label naming a failed check (one per failed check), or `environment` for a run that could not be judged. */
export const FAILURE_LABEL = 'drill-failure';

const TIME_CHECKS: ReadonlySet<CheckName> = new Set(['rto', 'rpo', 'detection', 'revocation']);

/** A measured value or limit with its unit; RTO and time-to-revoke as the upper bounds they are. */
function valueText(v: Verdict, n: number, role: 'measured' | 'limit'): string {
  if (TIME_CHECKS.has(v.check)) {
    const upper = role === 'measured' && (v.check === 'rto' || v.check === 'revocation');
    return upper ? `≤ ${formatDurationBound(n, 'up')}` : formatDuration(n);
  }
  if (v.check === 'performance') return role === 'measured' ? `p99 ${n.toFixed(2)}× baseline` : `below ${n}× baseline`;
  return Number.isInteger(n) ? String(n) : n.toFixed(2);
}

export interface AllureParameter {
  name: string;
  value: string;
}

/**
 * `RTO measured` = `≤ 578ms`, `RTO limit` = `15m`, `RTO result` = `passed`, ... for every judged
 * check with a number. Meant to be added as excluded parameters: they differ from run to run and
 * must not split one drill's Allure history into one test per run.
 */
export function measuredParameters(journal: Journal): AllureParameter[] {
  const out: AllureParameter[] = [];
  for (const v of journal.verdicts) {
    const name = v.check === 'rto' || v.check === 'rpo' ? v.check.toUpperCase() : v.check;
    if (v.measured !== undefined) out.push({ name: `${name} measured`, value: valueText(v, v.measured, 'measured') });
    if (v.limit !== undefined) out.push({ name: `${name} limit`, value: valueText(v, v.limit, 'limit') });
    if (v.measured !== undefined || v.limit !== undefined) out.push({ name: `${name} result`, value: v.status });
  }
  const lost = journal.measurements.lostWrites;
  if (lost !== undefined) out.push({ name: 'lost writes', value: String(lost) });
  return out;
}

/** The values of FAILURE_LABEL: each failed check, or `environment` when the run judged nothing because of its environment. */
export function failureLabels(journal: Journal): string[] {
  if (journal.status === 'environment-error') return ['environment'];
  return journal.verdicts.filter((v) => v.status === 'failed').map((v) => v.check);
}

/**
 * Allure categories (config `categories`), in the order a drill is filed: a test goes into the
 * first that matches, so a run with no verdicts is `environment`, and a drill failing several
 * checks is filed under the most serious (data first), its labels still naming every one.
 */
export const ALLURE_CATEGORIES = [
  { id: 'drill-environment', name: 'Environment (drill could not run: not judged)', matchers: [{ labels: { [FAILURE_LABEL]: '^environment$' } }] },
  { id: 'drill-integrity', name: 'Integrity failure', matchers: [{ labels: { [FAILURE_LABEL]: '^integrity$' } }] },
  { id: 'drill-rpo', name: 'RPO breach', matchers: [{ labels: { [FAILURE_LABEL]: '^rpo$' } }] },
  { id: 'drill-rto', name: 'RTO breach', matchers: [{ labels: { [FAILURE_LABEL]: '^rto$' } }] },
  { id: 'drill-other', name: 'Other failed check', matchers: [{ labels: { [FAILURE_LABEL]: '.' } }] },
];

/** Java properties escaping: backslash, line breaks, and `=`/`:` in keys. */
function property(key: string, value: string): string {
  const esc = (s: string) => s.replace(/\\/g, '\\\\').replace(/\r/g, '\\r').replace(/\n/g, '\\n');
  return `${esc(key).replace(/[=:\s]/g, (c) => `\\${c}`)}=${esc(value)}`;
}

/** `environment.properties` of the run's allure-results: harness and component versions, platform, scenario. */
export function environmentProperties(journal: Journal): string {
  const h = journal.harness;
  const lines = [
    property('drill', `${h.name} ${h.version}`),
    property('node', h.node),
    property('platform', `${h.platform}/${h.arch}`),
    property('host', h.hostname),
    ...Object.entries(journal.components).map(([k, v]) => property(k, v)),
    property('scenario', journal.scenario.definition.name),
    property('scenario.sha256', journal.scenario.sha256),
    property('run', journal.runId),
  ];
  return `${lines.join('\n')}\n`;
}
