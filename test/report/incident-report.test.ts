import { describe, expect, it } from 'vitest';
import { renderIncidentReport } from '../../src/report/incident-report.js';
import {
  earlyErrorJournal,
  failedJournal,
  INTEGRITY_FAILURE,
  passedJournal,
  RTO_FAILURE,
  SECRET_PASSWORD,
  SECRET_URL,
} from './fixtures.js';

/** The runbook's Post-Incident Report Template headings, in its order. */
const TEMPLATE_HEADINGS = ['## Executive Summary', '## Timeline', '## Root Cause Analysis', '## Action Items', '## Prevention Measures'];
const REQUIRED_FIELDS = [
  'Incident Start Time',
  'Detection Method',
  'Initial Assessment',
  'Root Cause',
  'Recovery Actions',
  'Resolution Time',
  'Lessons Learned',
];

function headingsInOrder(md: string): string[] {
  return md.split('\n').filter((line) => /^## /.test(line));
}

describe('renderIncidentReport: passed drill', () => {
  const journal = passedJournal();
  const md = renderIncidentReport(journal);

  it('follows the runbook template and says it is a drill', () => {
    expect(md.startsWith(`# Incident Report: ${journal.runId}\n`)).toBe(true);
    expect(headingsInOrder(md).filter((h) => TEMPLATE_HEADINGS.includes(h))).toEqual(TEMPLATE_HEADINGS);
    for (const field of ['Duration', 'Impact', 'Root Cause', 'Resolution']) expect(md).toContain(`- **${field}**:`);
    for (const field of REQUIRED_FIELDS) expect(md).toContain(`- **${field}**:`);
    const top = md.slice(0, md.indexOf('## Executive Summary'));
    expect(top).toContain('DRILL');
    expect(top).toContain('`db-page-corruption-pitr`');
    expect(top).toContain('Heap page corruption on transfers');
    expect(top).toContain('**Severity**: P1');
    expect(top).toContain('Scenario 2: Database Corruption');
    expect(top).toContain('**Status**: **PASSED**');
  });

  it('reports the measured numbers against their objectives', () => {
    expect(md).toContain('| RTO (fault to service restored) | ≤ 32s | 15m | PASS | RTO ≤ 32s (restored between T_fault+31.75s and T_fault+32s) within 15m |');
    expect(md).toContain('- **Duration**: RTO ≤ 32s (restored between T_fault+31.75s and T_fault+32s); verified recovery 38s');
    expect(md).toContain('- **Resolution Time**: RTO ≤ 32s (restored between T_fault+31.75s and T_fault+32s)');
    expect(md).toContain('| RPO (newest acknowledged write lost) | 300ms | 5m | PASS |');
    expect(md).toContain('| Detection latency | 250ms | 1m | PASS |');
    expect(md).toMatch(/\| Verified recovery \(integrity checks done\) \| 38s \| .* \| PASS \|/);
    expect(md).toContain('3 acknowledged writes lost (ids 78–80)');
    expect(md).toContain('RPO 300ms');
    expect(md).toContain('service probes failing for 31.8s');
  });

  it('builds the timeline from the marks, with wall times and offsets from T_fault', () => {
    const timeline = md.slice(md.indexOf('## Timeline'), md.indexOf('## Root Cause Analysis'));
    const expected = [
      '**2025-05-01T10:00:08.000Z** (T+0ms): Incident start: fault injected',
      '**2025-05-01T10:00:08.250Z** (T+250ms): Incident detected',
      '**2025-05-01T10:00:09.000Z** (T+1s): Recovery initiated',
      '**2025-05-01T10:00:38.000Z** (T+30s): Step `pitr-restore` passed after 27s',
      '**2025-05-01T10:00:39.750Z** (T+31.8s): Last failing service probe sample before the service was seen restored',
      '**2025-05-01T10:00:40.000Z** (T+32s): Service seen restored: RTO ≤ 32s (restored between T_fault+31.75s and T_fault+32s)',
      '**2025-05-01T10:00:46.000Z** (T+38s): Full resolution confirmed',
    ];
    let at = 0;
    for (const row of expected) {
      const found = timeline.indexOf(row, at);
      expect(found, row).toBeGreaterThan(-1);
      at = found;
    }
  });

  it('a drill without a database shows no RPO or data-loss section', () => {
    const journal = passedJournal();
    delete journal.scenario.definition.targets.postgres;
    journal.verdicts = journal.verdicts.filter((v) => v.check !== 'rpo' && v.check !== 'integrity');
    const md = renderIncidentReport(journal);
    expect(md).toContain('RTO (fault to service restored)');
    expect(md).not.toContain('RPO (newest acknowledged write lost)');
    expect(md).not.toContain('### Data loss and integrity');
    expect(renderIncidentReport(passedJournal())).toContain('### Data loss and integrity');
  });

  it('has no action items when every check passed', () => {
    const items = md.slice(md.indexOf('## Action Items'), md.indexOf('## Prevention Measures'));
    expect(items).toContain('No action items from this drill');
    expect(items).not.toMatch(/^1\. /m);
  });

  it('never prints the password planted in the scenario definition', () => {
    expect(JSON.stringify(journal)).toContain(SECRET_PASSWORD);
    expect(md).not.toContain(SECRET_PASSWORD);
  });
});

describe('renderIncidentReport: failed drill', () => {
  const md = renderIncidentReport(failedJournal());

  it('turns each failed verdict into an action item with its message', () => {
    const items = md.slice(md.indexOf('## Action Items'), md.indexOf('## Prevention Measures'));
    expect(items).toContain(`1. rto: ${RTO_FAILURE}`);
    expect(items).toContain(`2. integrity: ${INTEGRITY_FAILURE}`);
    expect(items).not.toContain('No action items');
  });

  it('marks the failed checks and shows the status', () => {
    expect(md).toContain('**Status**: **FAILED**');
    expect(md).toContain('| RTO (fault to service restored) | ≤ 16m40s | 15m | **FAIL** |');
    expect(md).toContain('| RPO (newest acknowledged write lost) | 300ms | 5m | PASS |');
    expect(md).toMatch(/\| Verified recovery .* \| \*\*FAIL\*\* \|/);
    expect(md).toContain('`transfers` heap block 3: line pointer out of range');
    expect(md).toContain(`**Lessons Learned**: ${RTO_FAILURE}`);
  });

  it('never prints the password', () => {
    expect(md).not.toContain(SECRET_PASSWORD);
  });
});

describe('renderIncidentReport: run that errored before the fault', () => {
  const journal = earlyErrorJournal();
  const md = renderIncidentReport(journal);

  it('renders every section and says what was not reached', () => {
    expect(headingsInOrder(md).filter((h) => TEMPLATE_HEADINGS.includes(h))).toEqual(TEMPLATE_HEADINGS);
    expect(md).toContain('**Status**: **ENVIRONMENT-ERROR**');
    expect(md).toContain('**Incident Start Time**: not reached');
    expect(md).toContain('| RTO (fault to service restored) | not reached | 15m | not judged |');
    expect(md).toContain('| 1 | `assess-corruption` |  | not reached |');
    expect(md).toContain('T_fault not reached: offsets are from drill start.');
    expect(md).not.toMatch(/undefined|NaN/);
  });

  it('makes the error the action item, redacted', () => {
    expect(journal.error?.message).toContain(SECRET_URL);
    expect(md).toMatch(/^1\. run did not complete \(PG_UNREACHABLE\): could not connect to postgres:\/\/drill:\[REDACTED\]@db/m);
    expect(md).not.toContain(SECRET_PASSWORD);
  });

  it('copes with a journal that has no status yet (run still being written)', () => {
    const partial = { ...journal, status: undefined, error: undefined, endedAt: undefined };
    const text = renderIncidentReport(partial);
    expect(text).toContain('INCOMPLETE');
    expect(text).toContain('No action items recorded, but no check was judged');
  });
});

describe('renderIncidentReport: checks that are not times', () => {
  it('prints a performance ratio and a smoke count with their units, never a bare float', () => {
    const journal = failedJournal();
    journal.verdicts.push(
      { check: 'performance', status: 'failed', message: 'performance failed', measured: 3.456, limit: 3 },
      { check: 'smoke', status: 'failed', message: 'smoke tests failed', measured: 2, limit: 0 },
    );
    const md = renderIncidentReport(journal);
    expect(md).toContain('| performance | p99 3.46× baseline | below 3× baseline | **FAIL** |');
    expect(md).toContain('| smoke | 2 failed checks | 0 failed | **FAIL** |');
    expect(md).not.toContain('| 3.456 |');
  });
});
