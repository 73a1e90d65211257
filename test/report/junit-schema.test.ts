import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { junitXml } from '../../src/report/junit.js';
import { countByStatus, entryFromJournal, entryWithoutJournal, notRunEntry, type SuiteEntry } from '../../src/report/suite-summary.js';
import { healthyDrill } from '../assertions/journal-builder.js';
import { judged, suiteFacts } from '../support/judged-journal.js';
import { JUNIT_SCHEMA_SOURCE, junitSchemaPath, validateJunit } from '../support/junit-schema.js';

/**
 * `drill run --junit` output against the Jenkins xUnit plugin's junit-10.xsd with xmllint (the
 * real CLI's file is validated in test/e2e/gate.test.ts). Each negative control breaks one thing
 * in an otherwise valid document, so a rejection is the schema's doing and the check can fail.
 */
const tmp = mkdtempSync(path.join(os.tmpdir(), 'drill-junit-schema-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
function validate(xml: string): ReturnType<typeof validateJunit> {
  const file = path.join(tmp, `junit-${++n}.xml`);
  writeFileSync(file, xml);
  return validateJunit(file);
}

const facts = suiteFacts;
const entries: SuiteEntry[] = [
  entryFromJournal(judged(healthyDrill().fault(10_000), 'restore-ok'), facts('restore-ok', 41_200), 0),
  entryFromJournal(judged(healthyDrill().fault(10_000).expect({ rto: '2s' }), 'rto-missed'), facts('rto-missed', 40_001), 1),
  entryWithoutJournal(facts('no-postgres', 1500), 'environment-error', 3, { code: 'PG_START_FAILED', message: 'initdb failed: <no space> & "quota" ≤ \u001b[31mred\u001b[0m\nsecond line\u0007' }),
  entryWithoutJournal(facts('bad-step', 20), 'invalid-input', 2, { code: 'SCENARIO_INVALID', message: 'steps[0].run: unknown step' }),
  entryWithoutJournal(facts('stopped', 10), 'interrupted', 130, { code: 'INTERRUPTED', message: 'interrupted' }),
  notRunEntry('later', 'drills/scenarios/later.yaml', '--fail-fast: no-postgres ended environment-error'),
];
const xml = junitXml({ summaryVersion: 1, startedAt: '2026-01-01T00:00:00.000Z', endedAt: '2026-01-01T00:01:00.000Z', exitCode: 130, selection: { tags: [], excludeTags: [], failFast: true }, counts: countByStatus(entries), drills: entries });

describe('JUnit output against the Jenkins xUnit junit-10.xsd (xmllint)', () => {
  it('every outcome (passed, failed, environment error, invalid input, interrupted, not run) validates', () => {
    expect(xml).toMatch(/<failure /);
    expect(xml.match(/<error /g)).toHaveLength(3);
    expect(xml).toMatch(/<skipped /);
    expect(validate(xml)).toEqual({ valid: true, errors: [] });
  });

  it('an empty run (no drill) validates too', () => {
    expect(validate(junitXml({ summaryVersion: 1, startedAt: '2026-01-01T00:00:00.000Z', endedAt: '2026-01-01T00:00:00.000Z', exitCode: 0, selection: { tags: [], excludeTags: [], failFast: false }, counts: countByStatus([]), drills: [] }))).toEqual({ valid: true, errors: [] });
  });

  describe('negative controls: one structural error in the same document is rejected', () => {
    const rejected = (broken: string, element: RegExp) => {
      expect(broken).not.toBe(xml);
      const r = validate(broken);
      expect(r.valid).toBe(false);
      expect(r.errors.join('\n')).toMatch(element);
    };

    it('a <failure> outside its <testcase>', () => {
      const failure = /\n\s*<failure [^\n]*<\/failure>/s.exec(xml)![0];
      rejected(xml.replace(failure, '').replace('    <testcase name="rto-missed"', `${failure}\n    <testcase name="rto-missed"`), /element failure: .*not expected/);
    });

    it('a <testcase> without its required name', () => {
      rejected(xml.replace('<testcase name="restore-ok" ', '<testcase '), /element testcase: .*attribute 'name' is required/);
    });

    it('a <testsuite> without its required tests count', () => {
      rejected(xml.replace(/(<testsuite name="later") tests="1"/, '$1'), /element testsuite: .*attribute 'tests' is required/);
    });

    it('<properties> inside a <testcase> (not in this schema: why they sit on each drill\'s <testsuite>)', () => {
      rejected(xml.replace('<testcase name="restore-ok" classname="drill" time="41.200">', '<testcase name="restore-ok" classname="drill" time="41.200">\n      <properties><property name="rto.limit_ms" value="30000"/></properties>'), /element properties: .*not expected/);
    });

    it('a suite time that is not a number of seconds', () => {
      rejected(xml.replace(/(<testsuite name="restore-ok"[^>]*) time="41\.200"/, '$1 time="41.2s"'), /element testsuite: .*attribute 'time'/);
    });
  });

  it('without the schema or xmllint the check fails, saying to run npm run setup (never skips)', () => {
    const file = path.join(tmp, 'any.xml');
    writeFileSync(file, xml);
    expect(() => validateJunit(file, { ...process.env, DRILL_CACHE_DIR: tmp })).toThrow(/JUnit schema is not at .*: run npm run setup/);
    expect(() => validateJunit(file, { ...process.env, PATH: tmp })).toThrow(/xmllint is not on PATH: run npm run setup/);
  });

  it('the schema is the one tools/fetch-junit-schema.sh pins (same pytest version and hash)', () => {
    const script = readFileSync('tools/fetch-junit-schema.sh', 'utf8');
    expect(script).toContain(`PYTEST_VERSION=${JUNIT_SCHEMA_SOURCE.pytestVersion}\n`);
    expect(script).toContain(`XSD_SHA256=${JUNIT_SCHEMA_SOURCE.xsdSha256}\n`);
    expect(readFileSync(junitSchemaPath(), 'utf8')).toMatch(/Copyright \(c\) 2014, Gregory Boissinot[\s\S]*<xs:element name="testsuites">/);
  });
});
