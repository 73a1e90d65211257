import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CoverageReport, ProcedureCoverage } from '../../src/coverage/types.js';
import type { Journal } from '../../src/engine/journal-types.js';
import { readRunbook } from '../../src/runbook/read-runbook.js';
import { IDS, SHIPPED_RUNBOOK } from '../runbook/shipped-runbook.js';
import { leftovers, readJournal, ROOT, runCli, type CliResult } from './helpers.js';

// `drill coverage` on journals of real drills: three cheap PostgreSQL drills run through the CLI
// with --runbook (a passing one, a failing one, a tagged negative control), then the join against
// the shipped runbook (read-only) and against an edited temp copy of it.
const tmp = mkdtempSync(path.join(os.tmpdir(), 'drill-coverage-'));
const reportsDir = path.join(tmp, 'reports');
const copy = path.join(tmp, 'runbook.md');
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const IDENTIFY = `${IDS.dataRecovery}#identify-corruption-extent`;
const PITR = `${IDS.dataRecovery}#restore-from-point-in-time-backup`;
const VERIFY = `${IDS.dataRecovery}#verify-restored-data`;
const STOP = `${IDS.scenario2}/immediate-response#stop-write-operations`;
const SCAN = `${IDS.consistency}#check-for-data-corruption`;
const RESTORATION = 'emergency-rollback-procedures/database-rollback-if-required/data-restoration-critical';

let run: CliResult;
const journals = new Map<string, Journal>();

beforeAll(async () => {
  copyFileSync(SHIPPED_RUNBOOK, copy);
  run = await runCli([
    'run',
    path.join(ROOT, 'drills/scenarios/pg-index-corruption-detect.yaml'),
    path.join(ROOT, 'test/fixtures/scenarios/rto-too-tight.yaml'),
    path.join(ROOT, 'drills/scenarios/db-corruption-stale-backup.yaml'),
    '--runbook',
    copy,
    '--reports-dir',
    reportsDir,
  ]);
  for (const id of runIds()) {
    const journal = readJournal(path.join(reportsDir, id));
    journals.set(journal.scenario.definition.name, journal);
  }
}, 900_000);

/** The run dirs (`drill run` also writes summary.json beside them). */
function runIds(): string[] {
  return readdirSync(reportsDir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
}

const coverage = (runbook: string, ...args: string[]) => runCli(['coverage', '--runbook', runbook, '--reports-dir', reportsDir, ...args]);
const json = (result: CliResult) => JSON.parse(result.stdout) as CoverageReport;
const row = (report: CoverageReport, id: string): ProcedureCoverage => report.procedures.find((p) => p.id === id)!;

describe('drill coverage over real drills', () => {
  it('the drills ran as they must, each recording the text of its runbook procedures, and left nothing behind', async () => {
    expect(run.code, run.stdout + run.stderr).toBe(1);
    expect([...journals.keys()].sort()).toEqual(['db-corruption-stale-backup', 'pg-index-corruption-detect', 'rto-too-tight']);
    expect(journals.get('pg-index-corruption-detect')!.status).toBe('passed');
    expect(journals.get('rto-too-tight')!.status).toBe('failed');
    expect(journals.get('db-corruption-stale-backup')!.status).toBe('failed');
    const runbook = await readRunbook(copy);
    const recorded = journals.get('pg-index-corruption-detect')!.runbook!;
    expect(recorded).toMatchObject({ file: copy, sha256: runbook.sha256, sections: [IDS.scenario2] });
    expect(recorded.procedures[IDENTIFY]).toBe(runbook.procedures.find((p) => p.id === IDENTIFY)!.sha256);
    expect(Object.keys(recorded.procedures)).toContain(SCAN);
    for (const id of runIds()) expect(leftovers(path.join(reportsDir, id)), id).toEqual([]);
  });

  it('against the shipped runbook: covered, failing, never drilled, the negative control apart, the measured RTO/RPO beside the objective', async () => {
    const result = await coverage(SHIPPED_RUNBOOK, '--format', 'json');
    expect(result.code, result.stderr).toBe(0);
    const report = json(result);
    const index = journals.get('pg-index-corruption-detect')!;
    const tight = journals.get('rto-too-tight')!;
    expect(row(report, IDENTIFY)).toMatchObject({
      status: 'covered',
      textCheck: 'same',
      drills: ['pg-index-corruption-detect'],
      last: {
        runId: index.runId,
        status: 'passed',
        endedAt: index.endedAt,
        rto: { measuredMs: index.measurements.rtoMs, objectiveMs: 900_000, verdict: 'passed' },
        rpo: { measuredMs: index.measurements.rpoMs, objectiveMs: 300_000, verdict: 'passed' },
      },
    });
    // Named by the scenario's covers:, outside its runbook section.
    expect(row(report, SCAN)).toMatchObject({ status: 'covered', drills: ['pg-index-corruption-detect'] });
    // rto-too-tight failed its RTO, and it is the latest drill to stop writes, restore and verify.
    for (const id of [STOP, PITR]) expect(row(report, id)).toMatchObject({ status: 'failing', drills: ['rto-too-tight'], last: { runId: tight.runId, rto: { verdict: 'failed', objectiveMs: 200 } } });
    expect(row(report, VERIFY)).toMatchObject({ status: 'failing', drills: ['rto-too-tight', 'pg-index-corruption-detect'] });
    // The negative control failed as it must and counts for nothing: Data Restoration stays never drilled.
    expect(report.negativeControls).toEqual([expect.objectContaining({ scenario: 'db-corruption-stale-backup', status: 'failed', asExpected: true })]);
    expect(report.procedures.filter((p) => p.sectionId === RESTORATION).map((p) => p.status)).toEqual(['never-drilled', 'never-drilled', 'never-drilled']);
    // Never drilled until those drills exist.
    for (const prefix of [IDS.option3, IDS.scenario3]) {
      const procedures = report.procedures.filter((p) => p.sectionId.startsWith(prefix));
      expect(procedures.length).toBeGreaterThan(1);
      for (const p of procedures) expect(report.neverDrilled).toContain(p.id);
    }
    expect(report.totals).toEqual({ procedures: 66, covered: 2, stale: 0, failing: 3, changed: 0, neverDrilled: 61, ratio: 2 / 66 });
    expect(report.runsRead).toBe(3);
    expect(report.notes).toEqual([]);
  });

  it('text is the default: a table per section; --min-coverage gates on the ratio (exit 1 below it)', async () => {
    const [text, below, above] = await Promise.all([coverage(SHIPPED_RUNBOOK), coverage(SHIPPED_RUNBOOK, '--min-coverage', '0.8'), coverage(SHIPPED_RUNBOOK, '--min-coverage', '3%')]);
    expect(text.code).toBe(0);
    const lines = text.stdout.split('\n');
    const at = lines.indexOf('Disaster Recovery Scenarios › Scenario 2: Database Corruption › Data Recovery');
    expect(lines[at + 2]).toMatch(/^ {2}covered +Identify corruption extent +pg-index-corruption-detect +\d{4}-\d\d-\d\d \d\d:\d\dZ +passed +≤ \S+ \/ 15m met +\S+ \/ 5m met$/);
    expect(lines[at + 3]).toMatch(/^ {2}FAILING +Restore from point-in-time backup +rto-too-tight .* failed +≤ \S+ \/ 200ms MISSED/);
    expect(text.stdout).toContain('Coverage: 2 of 66 procedures covered (3.0%); 0 stale, 3 failing, 0 changed since drilled, 61 never drilled');
    expect(below.code).toBe(1);
    expect(below.stderr).toContain('drill: coverage 3.0% (2 of 66) is below --min-coverage 80.0%');
    expect(above.code, above.stderr).toBe(0);
  });

  it('a runbook edited after the drills: the edited procedure is "changed since drilled", nothing else moves', async () => {
    const edited = path.join(tmp, 'edited.md');
    writeFileSync(
      edited,
      readFileSync(copy, 'utf8')
        .replace('./scripts/database/analyze-corruption.sh', './scripts/database/analyze-corruption.sh --all-relations')
        // An unrelated edit elsewhere changes no id and no other status.
        .replace('./scripts/security/revoke-all-tokens.sh --emergency', './scripts/security/revoke-all-tokens.sh --emergency --notify'),
    );
    const [before, after, text] = await Promise.all([coverage(copy, '--format', 'json'), coverage(edited, '--format', 'json'), coverage(edited)]);
    const [b, a] = [json(before), json(after)];
    expect(row(b, IDENTIFY)).toMatchObject({ status: 'covered', textCheck: 'same' });
    expect(row(a, IDENTIFY)).toMatchObject({ status: 'changed', textCheck: 'changed', last: { status: 'passed' } });
    const others = (r: CoverageReport) => r.procedures.filter((p) => p.id !== IDENTIFY).map((p) => [p.id, p.status]);
    expect(others(a)).toEqual(others(b));
    expect(a.totals).toMatchObject({ covered: 1, changed: 1, failing: 3 });
    expect(text.stdout).toMatch(/^ {2}changed since drilled +Identify corruption extent +pg-index-corruption-detect/m);
    expect(text.stdout).toContain(`${IDENTIFY}: changed since drilled (pg-index-corruption-detect, run `);
  });

  it('html: one self-contained page', async () => {
    const result = await coverage(SHIPPED_RUNBOOK, '--format', 'html');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^<!doctype html>[\s\S]*<style>[\s\S]*Identify corruption extent[\s\S]*<\/html>\n$/);
    expect((result.stdout.match(/<[^>]*>/g) ?? []).filter((t) => /^<(script|link|img)\b|\s(src|href)=/i.test(t))).toEqual([]);
  });
});

describe('drill coverage on bad input (exit 2, a message that says what to do)', () => {
  // The flag parsers' other refusals (--format, --min-coverage) are in test/coverage/render.test.ts.
  it('a malformed runbook, a missing one, none given, a bad --since', async () => {
    const broken = path.join(tmp, 'broken.md');
    writeFileSync(broken, readFileSync(SHIPPED_RUNBOOK, 'utf8').replace('--instance truststream-db-recovered\n```\n', '--instance truststream-db-recovered\n'));
    const results = await Promise.all([
      coverage(broken),
      coverage(path.join(tmp, 'nope.md')),
      runCli(['coverage', '--reports-dir', reportsDir], { env: { DRILL_RUNBOOK: '' } }),
      coverage(SHIPPED_RUNBOOK, '--since', 'ninety'),
    ]);
    const expected = [
      new RegExp(`${broken}:201: "\`\`\`bash" opens a code block, but this line is inside the code block opened at line 186: a closing fence is missing above it\\n.*\\n\\(RUNBOOK_INVALID\\)`),
      /nope\.md: not found .*\n.*\n\(RUNBOOK_INVALID\)/,
      /drill coverage needs --runbook <file\.md> \(or DRILL_RUNBOOK\)/,
      /--since "ninety": give a duration greater than zero and at most 36500d like 90d/,
    ];
    results.forEach((result, i) => {
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toMatch(expected[i]!);
      expect(result.stderr).not.toMatch(/unexpected error|^\s+at /m);
      expect(result.stdout).toBe('');
    });
  });

  it('an empty reports dir is a report with everything never drilled and a clear note; a missing one is exit 2', async () => {
    const empty = path.join(tmp, 'empty-reports');
    mkdirSync(empty);
    const [result, missing] = await Promise.all([
      runCli(['coverage', '--runbook', SHIPPED_RUNBOOK, '--reports-dir', empty]),
      runCli(['coverage', '--runbook', SHIPPED_RUNBOOK, '--reports-dir', path.join(tmp, 'no-such-dir')]),
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(`drill: no drill journals in ${empty}: every procedure is never drilled. Run drills into it first`);
    expect(result.stdout).toContain('Coverage: 0 of 66 procedures covered (0.0%); 0 stale, 0 failing, 0 changed since drilled, 66 never drilled');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--reports-dir .*no-such-dir: does not exist .*\n\(REPORTS_DIR_NOT_FOUND\)/);
  });

  it('with --runbook, drill validate checks runbook: and covers: against it', async () => {
    const scenario = path.join(tmp, 'scenario.yaml');
    writeFileSync(
      scenario,
      readFileSync(path.join(ROOT, 'drills/scenarios/pg-index-corruption-detect.yaml'), 'utf8')
        .replace('#check-for-data-corruption', '#check-for-corruption')
        .replace('runbook: "Scenario 2: Database Corruption"', 'runbook: "Scenario 2: Data Corruption"'),
    );
    const [withRunbook, without] = await Promise.all([runCli(['validate', '--runbook', SHIPPED_RUNBOOK, scenario]), runCli(['validate', scenario], { env: { DRILL_RUNBOOK: '' } })]);
    expect(withRunbook.code).toBe(2);
    expect(withRunbook.stderr).toMatch(new RegExp(`${scenario}:\\d+:\\d+ runbook: "Scenario 2: Data Corruption" is no section of .* — did you mean "Scenario 2: Database Corruption"\\?`));
    expect(withRunbook.stderr).toMatch(new RegExp(`${scenario}:\\d+:\\d+ covers\\[0\\]: no procedure ".*#check-for-corruption" in .* — did you mean "${SCAN}"\\?`));
    // Without a runbook only the form of an id can be checked.
    expect(without.code, without.stderr).toBe(0);
  });
});
