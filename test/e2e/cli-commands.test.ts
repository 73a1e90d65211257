import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, runCli } from './helpers.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'drill-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('drill validate / list / report / verify-evidence', () => {
  it('validate: every shipped scenario is valid (exit 0)', async () => {
    const result = await runCli(['validate', 'drills/scenarios/db-corruption-pitr.yaml', 'drills/scenarios/db-corruption-stale-backup.yaml']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/ok {2}drills\/scenarios\/db-corruption-pitr.yaml/);
  });

  it('validate: a misspelt key exits 2 naming file, line, column, key and the right spelling', async () => {
    const file = path.join(tmp, 'misspelt.yaml');
    writeFileSync(
      file,
      [
        'name: misspelt',
        'title: t',
        'runbook: r',
        'severity: P0',
        'targets: { postgres: { provider: native } }',
        'workload:',
        '  probes: [{ type: sql, name: p, query: select 1 }]',
        'faults: [{ type: pg-page-corruption, table: transfers }]',
        'recovery: [{ step: stop-writes }]',
        'expect:',
        '  rtoo: 15m',
        '',
      ].join('\n'),
    );
    const result = await runCli(['validate', file]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${file}:11:3 expect.rtoo`);
    expect(result.stderr).toMatch(/did you mean "rto"/);
    expect(result.stderr.match(/rtoo/g)).toHaveLength(1);
  });

  it('run with an invalid scenario exits 2 before anything starts', async () => {
    const file = path.join(tmp, 'bad-run.yaml');
    writeFileSync(file, 'name: Bad Name\n');
    const reports = path.join(tmp, 'reports-bad');
    const result = await runCli(['run', file, '--reports-dir', reports]);
    expect(result.code).toBe(2);
    expect(existsSync(reports)).toBe(false);
  });

  it('an unknown flag is invalid input (exit 2)', async () => {
    expect((await runCli(['run', '--no-such-flag', 'x.yaml'])).code).toBe(2);
  });

  it('list: the shipped scenarios with severity and title', async () => {
    const result = await runCli(['list']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/db-corruption-pitr\s+P0\s+Database corruption recovered by point-in-time restore/);
    expect(result.stdout).toMatch(/db-corruption-stale-backup\s+P0/);
  });

  it('report and verify-evidence on a recorded run: HTML beside the run dir, evidence still intact, tampering detected', async () => {
    const runDir = path.join(tmp, 'reports', 'run-1');
    cpSync(path.join(ROOT, 'test/fixtures/run-dir'), runDir, { recursive: true });
    const { writeEvidence } = await import('../../src/report/evidence.js');
    await writeEvidence(runDir);

    const report = await runCli(['report', runDir]);
    expect(report.code, report.stderr).toBe(0);
    // Not inside the run dir: its manifest covers every file there.
    expect(existsSync(path.join(tmp, 'reports', 'allure-report', 'index.html'))).toBe(true);
    expect(existsSync(path.join(runDir, 'allure-report'))).toBe(false);
    const inside = await runCli(['report', runDir, '--output', path.join(runDir, 'html')]);
    expect(inside.code).toBe(2);
    expect(inside.stderr).toMatch(/inside the run dir/);

    const intact = await runCli(['verify-evidence', runDir]);
    expect(intact.code, intact.stdout).toBe(0);
    expect(intact.stdout).toMatch(/NOT SIGNED: origin not proven/);
    writeFileSync(path.join(runDir, 'evidence', 'journal.json'), '{"tampered":true}\n');
    const tampered = await runCli(['verify-evidence', runDir]);
    expect(tampered.code).toBe(1);
    expect(tampered.stdout).toMatch(/TAMPERED: modified: evidence\/journal.json/);
  });
});

describe('drill cleanup', () => {
  it('exits 3 naming what it could not remove and keeps the ledger; 0 once it is gone', async () => {
    const runs = path.join(tmp, 'runs');
    mkdirSync(runs);
    // A run whose owner is long gone, with a directory the reaper must refuse: not a drill temp dir.
    const notOurs = mkdtempSync(path.join(tmp, 'precious-'));
    const ledger = path.join(runs, 'run-1.jsonl');
    writeFileSync(
      ledger,
      [
        { owner: { role: 'run-command', pid: 999_999_999, runId: 'run-1', runDir: path.join(tmp, 'gone'), since: '2026-01-01T00:00:00Z' } },
        { resource: { kind: 'temp-dir', path: notOurs } },
      ]
        .map((l) => `${JSON.stringify(l)}\n`)
        .join(''),
    );
    const refused = await runCli(['cleanup'], { env: { DRILL_RUNS_DIR: runs } });
    expect(refused.code, refused.stdout + refused.stderr).toBe(3);
    expect(refused.stdout).toContain(`LEFT dir ${notOurs}: not a drill temp directory`);
    expect(refused.stdout).toContain(`ledger kept: ${ledger}`);
    expect(existsSync(notOurs)).toBe(true);

    rmSync(notOurs, { recursive: true });
    const done = await runCli(['cleanup'], { env: { DRILL_RUNS_DIR: runs } });
    expect(done.code, done.stdout + done.stderr).toBe(0);
    expect(done.stdout).toMatch(/run run-1 \(run-command pid 999999999: gone\)/);
    expect(existsSync(ledger)).toBe(false);
  });
});
