import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/engine/errors.js';
import { SCENARIO_FIX_HINT } from '../../src/scenario/issues.js';
import { loadScenarioFile, loadScenarioFiles } from '../../src/scenario/loader.js';
import { fixture, validationError } from './helpers.js';

describe('loadScenarioFile: a valid file', () => {
  it('parses, fills defaults and turns durations into milliseconds', async () => {
    const loaded = await loadScenarioFile(fixture('valid.yaml'));
    const { scenario } = loaded;

    expect(scenario.expect).toMatchObject({ rto: 900_000, rpo: 300_000, stability: 5000, writesLostAfterFault: 'fail' });
    expect(scenario.targets.postgres).toMatchObject({
      provider: 'native',
      drillTarget: false,
      dataset: { accounts: 200, transfers: 2000 },
    });
    expect(scenario.workload.probes[0]).toMatchObject({ type: 'sql', interval: 250, timeout: 2000, service: true });
    expect(scenario.recovery).toEqual([
      { step: 'stop-writes', timeout: 600_000 },
      { step: 'pitr-restore', target: 'before-fault', backup: 'newest', verify: true, timeout: 600_000 },
    ]);
    expect(scenario.tags).toEqual([]);
    expect(scenario.timeout).toBe(1_800_000);
  });

  it('returns the absolute path, the source and the hash of the bytes on disk', async () => {
    const bytes = await readFile(fixture('valid.yaml'));
    const loaded = await loadScenarioFile(fixture('valid.yaml'));

    expect(isAbsolute(loaded.file)).toBe(true);
    expect(loaded.source).toBe(bytes.toString('utf8'));
    expect(loaded.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
  });
});

describe('loadScenarioFile: problems are placed at file, line, column and key', () => {
  it('points at a misspelt top-level key and suggests the real one', async () => {
    const file = fixture('misspelt-top-level.yaml');
    const error = await validationError(loadScenarioFile(file));

    expect(error).toBeInstanceOf(InputError);
    expect(error.code).toBe('SCENARIO_INVALID');
    expect(error.kind).toBe('input');
    expect(error.issues).toEqual([
      { file, line: 14, column: 1, keyPath: 'expct', message: 'unknown key', suggestion: 'expect' },
    ]);
    expect(error.message.split('\n')).toEqual([`${file}:14:1 expct: unknown key — did you mean "expect"?`, SCENARIO_FIX_HINT]);
  });

  it('points at a misspelt nested key by its own line', async () => {
    const file = fixture('misspelt-nested.yaml');
    const error = await validationError(loadScenarioFile(file));

    expect(error.issues).toEqual([
      { file, line: 16, column: 3, keyPath: 'expect.rtoo', message: 'unknown key', suggestion: 'rto' },
    ]);
    expect(error.message).toContain(`${file}:16:3 expect.rtoo: unknown key — did you mean "rto"?`);
  });

  it('reports every problem in a file, in source order, not just the first', async () => {
    const error = await validationError(loadScenarioFile(fixture('many-errors.yaml')));

    expect(error.issues.map((i) => [i.line, i.keyPath, i.suggestion])).toEqual([
      [1, 'name', undefined],
      [4, 'severity', 'P0'],
      [6, 'targets.postgres.url', undefined],
      [9, 'workload.probes[0].type', 'http'],
      [11, 'faults[0].blocks[0]', undefined],
      [15, 'recovery[1].target', 'latest'],
      [16, 'recovery[2].target', undefined],
      [19, 'expect.integrity[0]', 'ledger'],
    ]);
    const lines = error.message.split('\n');
    expect(lines).toHaveLength(error.issues.length + 1);
    expect(lines.at(-1)).toBe(SCENARIO_FIX_HINT);
    expect(error.issues.find((i) => i.keyPath === 'recovery[2].target')?.message).toBe('missing required key');
  });

  it('explains missing keys, empty lists and the wrong kind of value', async () => {
    const error = await validationError(loadScenarioFile(fixture('shape-mistakes.yaml')));

    expect(error.issues.map(({ line, column, keyPath, message, suggestion }) => ({ line, column, keyPath, message, suggestion })))
      .toEqual([
        { line: 1, column: 1, keyPath: 'severity', message: 'missing required key; one of: P0, P1, P2, P3', suggestion: undefined },
        { line: 5, column: 22, keyPath: 'workload.probes[0].query', message: 'missing required key', suggestion: undefined },
        { line: 6, column: 9, keyPath: 'faults', message: 'needs at least 1 item', suggestion: undefined },
        {
          line: 7,
          column: 12,
          keyPath: 'recovery[0]',
          message: expect.stringMatching(/^expected a mapping with "step:"/),
          suggestion: 'step: stop-writes',
        },
        { line: 8, column: 16, keyPath: 'expect.rto', message: 'expected a duration like 15m, got a number', suggestion: undefined },
      ]);
  });

  it('gives a YAML syntax error its line, column and nearest key', async () => {
    const file = fixture('syntax-error.yaml');
    const error = await validationError(loadScenarioFile(file));

    expect(error.issues).toHaveLength(1);
    expect(error.issues[0]).toMatchObject({ file, line: 5, column: 1, keyPath: 'targets.postgres.provider' });
    expect(error.issues[0]!.message).toMatch(/^YAML syntax: .*end with a \}/);
  });

  it('lists the allowed steps for a wrong step and suggests the closest', async () => {
    const error = await validationError(loadScenarioFile(fixture('wrong-step.yaml')));

    expect(error.issues).toEqual([
      expect.objectContaining({ line: 14, column: 11, keyPath: 'recovery[1].step', suggestion: 'pitr-restore' }),
    ]);
    // The list grows with every runbook procedure; what matters is that it is the schema's list.
    expect(error.issues[0]!.message).toMatch(/^unknown step "pitr-restor"; allowed: (?:[a-z0-9-]+, )+[a-z0-9-]+$/);
    expect(error.issues[0]!.message).toContain('pitr-restore, restore-base-backup');
  });

  it('names the key of a bad duration and offers the short form', async () => {
    const error = await validationError(loadScenarioFile(fixture('bad-duration.yaml')));

    expect(error.issues).toEqual([
      expect.objectContaining({ line: 15, column: 8, keyPath: 'expect.rto', suggestion: '15m' }),
    ]);
    expect(error.issues[0]!.message).toContain('"15 minutes" is not a duration');
  });

  it('requires a URL for the external provider, pointing at the provider', async () => {
    const error = await validationError(loadScenarioFile(fixture('external-without-url.yaml')));

    expect(error.issues).toEqual([
      expect.objectContaining({ line: 7, column: 15, keyPath: 'targets.postgres.url' }),
    ]);
    expect(error.issues[0]!.message).toMatch(/required when provider is "external"/);
  });

  it('finds a key brought in by a merge (<<: *anchor) where the anchor defines it', async () => {
    const error = await validationError(loadScenarioFile(fixture('merge-keys.yaml')));

    expect(error.issues).toContainEqual(
      expect.objectContaining({ line: 9, column: 3, keyPath: 'workload.probes[0].intervl', suggestion: 'interval' }),
    );
  });

  it('says what an empty file lacks', async () => {
    const error = await validationError(loadScenarioFile(fixture('empty.yaml')));

    expect(error.issues).toEqual([expect.objectContaining({ line: 1, column: 1, keyPath: '' })]);
    expect(error.issues[0]!.message).toMatch(/empty.*name, title, runbook, severity, targets, workload, faults, recovery/);
  });

  it('says clearly when the file does not exist or is a directory', async () => {
    const missing = fixture('no-such-file.yaml');
    const notFound = await validationError(loadScenarioFile(missing));
    expect(notFound.issues).toEqual([expect.objectContaining({ file: missing, line: 0, column: 0 })]);
    expect(notFound.message).toMatch(new RegExp(`^${missing.replace(/[.]/g, '\\.')}: file not found`));

    const directory = await validationError(loadScenarioFile(fixture('list')));
    expect(directory.issues[0]!.message).toMatch(/is a directory/);
  });
});

describe('loadScenarioFiles', () => {
  it('validates every file and throws one error with all their problems, files in the order given', async () => {
    const files = [fixture('wrong-step.yaml'), fixture('valid.yaml'), fixture('misspelt-nested.yaml')];
    const error = await validationError(loadScenarioFiles(files));

    expect(error.issues.map((i) => [i.file, i.keyPath])).toEqual([
      [files[0], 'recovery[1].step'],
      [files[2], 'expect.rtoo'],
    ]);
  });

  it('returns every scenario, in order, when all are valid', async () => {
    const env = { DRILL_TEST_PG_URL: 'postgres://localhost/drill', DRILL_TEST_RTO: '1m' };
    const loaded = await loadScenarioFiles([fixture('env.yaml'), fixture('valid.yaml')], { env });
    expect(loaded.map((l) => l.scenario.name)).toEqual(['demo-external', 'demo']);
  });

  it('rejects two files that use the same scenario name', async () => {
    const second = fixture('list/b-valid.yaml');
    const error = await validationError(loadScenarioFiles([fixture('valid.yaml'), second]));

    expect(error.issues).toEqual([expect.objectContaining({ file: second, line: 1, column: 7, keyPath: 'name' })]);
    expect(error.issues[0]!.message).toContain('already used by');
  });
});
