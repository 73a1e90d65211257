import { formatDurationBound } from '../scenario/duration.js';
import type { Objective, SuiteEntry, SuiteSummary } from './suite-summary.js';

/**
 * `drill run --junit FILE`: the JUnit XML CI systems render (GitLab, Jenkins, GitHub test
 * reporters), valid against the Jenkins xUnit plugin's junit-10.xsd (the schema that plugin validates
 * reports with; test/report/junit-schema.test.ts validates with xmllint). One `<testsuite>` per
 * drill holding its one testcase: that schema allows `<properties>` and `file` on a testsuite, not
 * on a testcase, so RTO/RPO (numbers, measured and limit) and the scenario file go there. A failed
 * check is a `<failure>` (the drill ran and the recovery missed an objective), an environment
 * error, refused input or an interruption is an `<error>` (nothing was judged: not the same as a
 * failed recovery), a drill not run is `<skipped>`.
 */
export function junitXml(summary: SuiteSummary): string {
  const c = summary.counts;
  const totals = {
    tests: summary.drills.length,
    failures: c.failed,
    errors: c['environment-error'] + c['invalid-input'] + c.interrupted,
    time: seconds(summary.drills.reduce((sum, d) => sum + (d.durationMs ?? 0), 0)),
  };
  // The schema's <testsuites> has no skipped count; each <testsuite> has its own.
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="drill" tests="${totals.tests}" failures="${totals.failures}" errors="${totals.errors}" time="${totals.time}">`,
    ...summary.drills.flatMap(testsuite),
    '</testsuites>',
    '',
  ].join('\n');
}

/** No `timestamp`: the summary knows when the run started, not when each drill did. */
function testsuite(d: SuiteEntry): string[] {
  const failures = d.status === 'failed' ? 1 : 0;
  const skipped = d.status === 'not-run' ? 1 : 0;
  const errors = d.status === 'passed' || failures + skipped > 0 ? 0 : 1;
  const time = seconds(d.durationMs ?? 0);
  const open = `  <testsuite name="${attr(d.scenario)}" tests="1" failures="${failures}" errors="${errors}" skipped="${skipped}" time="${time}" file="${attr(d.file)}">`;
  const testcase = [`    <testcase name="${attr(d.scenario)}" classname="drill" time="${time}">`, ...outcome(d), ...(d.runDir ? [`      <system-out>${text(`run dir: ${d.runDir}`)}</system-out>`] : []), '    </testcase>'];
  return [open, ...properties(d), ...testcase, '  </testsuite>'];
}

function properties(d: SuiteEntry): string[] {
  const props: Array<[string, string | number | undefined]> = [
    ['status', d.status],
    ['exit_code', d.exitCode],
    ['run_id', d.runId],
    ['run_dir', d.runDir],
    ...objectiveProps('rto', d.rto),
    ...objectiveProps('rpo', d.rpo),
    ['integrity', d.integrity],
  ];
  const shown = props.filter((p): p is [string, string | number] => p[1] !== undefined);
  return ['    <properties>', ...shown.map(([name, value]) => `      <property name="${attr(name)}" value="${attr(String(value))}"/>`), '    </properties>'];
}

function objectiveProps(name: string, o: Objective): Array<[string, string | number | undefined]> {
  return [
    [`${name}.verdict`, o.verdict],
    [`${name}.measured_ms`, o.measuredMs === undefined ? undefined : Math.ceil(o.measuredMs)],
    [`${name}.limit_ms`, o.limitMs],
  ];
}

function outcome(d: SuiteEntry): string[] {
  switch (d.status) {
    case 'passed':
      return [];
    case 'not-run':
      return [`      <skipped message="${attr(`not run: ${d.notRun ?? ''}`)}"/>`];
    case 'failed': {
      const checks = d.failedChecks.length > 0 ? d.failedChecks : [{ check: 'drill', message: d.error?.message ?? 'failed' }];
      const message = checks.map((c) => `${c.check}: ${headline(c, d)}`).join('; ');
      const body = checks.map((c) => `${c.check}: ${c.message}`).join('\n');
      return [`      <failure message="${attr(message)}" type="${attr(checks.map((c) => c.check).join(','))}">${text(body)}</failure>`];
    }
    default: {
      const code = d.error?.code ?? d.status;
      const message = d.error?.message ?? d.status;
      return [`      <error message="${attr(`${d.status}: ${firstLine(message)}`)}" type="${attr(code)}">${text(message)}</error>`];
    }
  }
}

/** Measured vs limit for the objectives in durations; other checks say it in their own message. */
function headline(c: { check: string; message: string }, d: SuiteEntry): string {
  const o = c.check === 'rto' ? d.rto : c.check === 'rpo' ? d.rpo : undefined;
  if (o?.measuredMs === undefined || o.limitMs === undefined) return firstLine(c.message);
  const bound = c.check === 'rto' ? '≤ ' : '';
  return `measured ${bound}${formatDurationBound(o.measuredMs, 'up')}, limit ${formatDurationBound(o.limitMs, 'down')}`;
}

function seconds(ms: number): string {
  return (Math.ceil(ms) / 1000).toFixed(3);
}

function firstLine(s: string): string {
  return s.split('\n', 1)[0]!;
}

/** XML 1.0 forbids most control characters even as references; terminal escapes go too. */
function clean(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\u001b\[[0-9;]*[A-Za-z]/g, '').replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '');
}

function text(s: string): string {
  return clean(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function attr(s: string): string {
  return text(s).replace(/"/g, '&quot;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;').replace(/\t/g, '&#9;');
}
