import { XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { exitCodeFor } from '../../src/engine/status.js';
import { junitXml } from '../../src/report/junit.js';
import { summaryTable } from '../../src/report/summary-table.js';
import { countByStatus, entryFromJournal, entryWithoutJournal, notRunEntry, type SuiteEntry, type SuiteSummary } from '../../src/report/suite-summary.js';
import { healthyDrill } from '../assertions/journal-builder.js';
import { judged, suiteFacts } from '../support/judged-journal.js';
import { type JunitDrill, readJunit } from '../support/junit-read.js';

const facts = suiteFacts;
function suite(entries: SuiteEntry[]): SuiteSummary {
  return { summaryVersion: 1, startedAt: '2026-01-01T00:00:00.000Z', endedAt: '2026-01-01T00:01:00.000Z', exitCode: 3, selection: { tags: [], excludeTags: [], failFast: true }, counts: countByStatus(entries), drills: entries };
}

const passedJournal = judged(healthyDrill().fault(10_000), 'restore-ok');
// The same recovery against an objective it cannot meet: the real judge fails it on RTO.
const failedJournal = judged(healthyDrill().fault(10_000).expect({ rto: '2s' }), 'rto-missed');
const passed = entryFromJournal(passedJournal, facts('restore-ok', 41_200), 0);
const failed = entryFromJournal(failedJournal, facts('rto-missed', 40_001), 1);
const envError = entryWithoutJournal(facts('no-postgres', 1500), 'environment-error', 3, { code: 'PG_START_FAILED', message: 'initdb failed: <no space> & "quota"\nsecond line\u0007' });
const notRun = notRunEntry('later', 'drills/scenarios/later.yaml', '--fail-fast: no-postgres ended environment-error');
const xml = junitXml(suite([passed, failed, envError, notRun]));

const doc = readJunit(xml);
const cases = doc.drills;
const byName = (n: string) => cases.find((c) => c.name === n)!;
const prop = (c: JunitDrill, name: string) => c.properties[name];

describe('JUnit XML of a drill run', () => {
  it('the judge really failed one and passed the other (the fixtures are not hand-made verdicts)', () => {
    expect(passedJournal.status).toBe('passed');
    expect(failedJournal.status).toBe('failed');
    expect(failedJournal.verdicts.filter((v) => v.status === 'failed').map((v) => v.check)).toEqual(['rto']);
  });

  it('is well-formed XML: <testsuites>, one <testsuite> per drill holding its one <testcase>, counts that match', () => {
    expect(XMLValidator.validate(xml)).toBe(true);
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites ')).toBe(true);
    expect(doc.totals).toMatchObject({ name: 'drill', tests: '4', failures: '1', errors: '1' });
    expect(cases.map((c) => c.name)).toEqual(['restore-ok', 'rto-missed', 'no-postgres', 'later']);
    expect(cases.map((c) => [c.suite.name, c.cases.length])).toEqual(['restore-ok', 'rto-missed', 'no-postgres', 'later'].map((n) => [n, 1]));
    expect(cases.map((c) => [c.suite.tests, c.suite.failures, c.suite.errors, c.suite.skipped])).toEqual([
      ['1', '0', '0', '0'],
      ['1', '1', '0', '0'],
      ['1', '0', '1', '0'],
      ['1', '0', '0', '1'],
    ]);
    expect(cases.every((c) => c.classname === 'drill')).toBe(true);
    expect(byName('rto-missed').suite.file).toBe('drills/scenarios/rto-missed.yaml');
    expect(byName('restore-ok').time).toBe('41.200');
    expect(byName('restore-ok').suite.time).toBe('41.200');
    expect(Number(doc.totals.time)).toBeCloseTo(41.2 + 40.001 + 1.5, 3);
  });

  it('a passing drill has no failure, error or skipped element; its RTO/RPO are properties, measured vs limit', () => {
    const c = byName('restore-ok');
    expect(c.failure ?? c.error ?? c.skipped).toBeUndefined();
    expect(prop(c, 'status')).toBe('passed');
    expect(prop(c, 'rto.verdict')).toBe('passed');
    expect(Number(prop(c, 'rto.measured_ms'))).toBeGreaterThanOrEqual(passedJournal.measurements.rtoMs!);
    expect(prop(c, 'rto.limit_ms')).toBe(String(passedJournal.scenario.definition.expect.rto));
    expect(prop(c, 'rpo.measured_ms')).toBe(String(Math.ceil(passedJournal.measurements.rpoMs!)));
    expect(prop(c, 'rpo.limit_ms')).toBe(String(passedJournal.scenario.definition.expect.rpo));
    expect(prop(c, 'run_dir')).toBe('/r/20260101T000000Z-restore-ok');
  });

  it('a failed check is a <failure> naming the check with measured vs limit; not an <error>', () => {
    const c = byName('rto-missed');
    expect(c.error).toBeUndefined();
    expect(c.failure).toHaveLength(1);
    const f = c.failure![0]!;
    expect(f.type).toBe('rto');
    expect(f.message).toMatch(/^rto: measured ≤ \S+, limit 2s$/);
    expect(f['#text']).toContain(failedJournal.verdicts.find((v) => v.check === 'rto')!.message);
    expect(prop(c, 'rto.verdict')).toBe('failed');
    expect(prop(c, 'rto.limit_ms')).toBe('2000');
    expect(Number(prop(c, 'rto.measured_ms'))).toBeGreaterThan(2000);
  });

  it('an environment error is an <error> with its code, not a <failure>; its text is escaped and control characters dropped', () => {
    const c = byName('no-postgres');
    expect(c.failure).toBeUndefined();
    expect(c.error).toHaveLength(1);
    expect(c.error![0]).toMatchObject({ type: 'PG_START_FAILED', message: 'environment-error: initdb failed: <no space> & "quota"' });
    expect(c.error![0]!['#text']).toBe('initdb failed: <no space> & "quota"\nsecond line');
    expect(prop(c, 'exit_code')).toBe('3');
    expect(prop(c, 'rto.verdict')).toBe('not-judged');
    expect(prop(c, 'rto.measured_ms')).toBeUndefined();
  });

  it('a drill that did not run is <skipped> with why', () => {
    const c = byName('later');
    expect(c.skipped![0]!.message).toBe('not run: --fail-fast: no-postgres ended environment-error');
    expect(c.failure ?? c.error).toBeUndefined();
    expect(prop(c, 'run_dir')).toBeUndefined();
  });

  it('an interrupted drill is an <error> too: nothing was judged', () => {
    const interrupted = entryWithoutJournal(facts('stopped', 10), 'interrupted', exitCodeFor('interrupted'), { code: 'INTERRUPTED', message: 'interrupted' });
    const c = readJunit(junitXml(suite([interrupted]))).drills[0]!;
    expect(c.error![0]!.type).toBe('INTERRUPTED');
    expect(c.failure).toBeUndefined();
    expect(c.suite).toMatchObject({ errors: '1', failures: '0', skipped: '0' });
  });
});

describe('the summary table', () => {
  it('one row per drill: status, RTO and RPO measured / limit (rounded up, RTO as a bound), integrity, duration; totals and the exit code', () => {
    const lines = summaryTable(suite([passed, failed, envError, notRun])).split('\n');
    expect(lines[0]).toMatch(/^SCENARIO +STATUS +RTO \(measured\/limit\) +RPO \(measured\/limit\) +INTEGRITY +DURATION$/);
    expect(lines[1]).toMatch(/^restore-ok +PASSED +≤ \S+ \/ 30s ok +\S+ \/ 3s ok +passed +41\.2s$/);
    expect(lines[2]).toMatch(/^rto-missed +FAILED +≤ \S+ \/ 2s MISSED +\S+ \/ 3s ok +passed +40\.01s$/);
    expect(lines[3]).toMatch(/^no-postgres +ENV ERROR +- +- +- +1\.5s$/);
    expect(lines[4]).toMatch(/^later +NOT RUN +- +- +- +-$/);
    expect(lines[5]).toBe('4 drills, 1 passed, 1 failed, 1 environment error, 1 not run; exit 3');
  });
});
