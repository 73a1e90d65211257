import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { expandScenarioArgs } from '../../src/cli/scenario-args.js';
import { InputError } from '../../src/engine/errors.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'drill-scenario-args-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function tree(files: string[]): string {
  const root = mkdtempSync(path.join(tmp, 't-'));
  for (const f of files) {
    if (f.endsWith('/')) mkdirSync(path.join(root, f), { recursive: true });
    else {
      mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
      writeFileSync(path.join(root, f), 'x');
    }
  }
  return root;
}

async function inputError(promise: Promise<unknown>): Promise<InputError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InputError);
  return error as InputError;
}

describe('drill run/validate arguments: files, directories, globs', () => {
  it('a directory is its *.yaml and *.yml files in byte order, not recursive, nothing else', async () => {
    const root = tree(['b.yaml', 'A.yml', 'a.yaml', 'notes.md', 'sub/c.yaml', 'dir.yaml/']);
    expect(await expandScenarioArgs(['.'], root)).toEqual(['A.yml', 'a.yaml', 'b.yaml']);
    expect(await expandScenarioArgs([root])).toEqual(['A.yml', 'a.yaml', 'b.yaml'].map((f) => path.join(root, f)));
  });

  it('a glob is the scenario files it matches, sorted; ** reaches subdirectories', async () => {
    const root = tree(['pg-b.yaml', 'pg-a.yaml', 'k8s-a.yaml', 'pg-notes.txt', 'sub/pg-c.yml']);
    expect(await expandScenarioArgs(['pg-*'], root)).toEqual(['pg-a.yaml', 'pg-b.yaml']);
    expect(await expandScenarioArgs(['**/pg-*'], root)).toEqual(['pg-a.yaml', 'pg-b.yaml', 'sub/pg-c.yml']);
  });

  it('files keep the order given; a file named twice (also through a directory) runs once', async () => {
    const root = tree(['a.yaml', 'b.yaml']);
    expect(await expandScenarioArgs(['b.yaml', '.', 'a.yaml'], root)).toEqual(['b.yaml', 'a.yaml']);
  });

  it('a plain path is kept as given, even when it does not exist (the loader names what is wrong with it)', async () => {
    const root = tree(['a.yaml']);
    expect(await expandScenarioArgs(['missing.yaml', 'a.yaml'], root)).toEqual(['missing.yaml', 'a.yaml']);
  });

  it('a directory or glob with no scenario is bad input naming each one', async () => {
    const root = tree(['empty/', 'docs/readme.md', 'a.yaml']);
    const error = await inputError(expandScenarioArgs(['a.yaml', 'empty', 'docs', 'zz-*.yaml'], root));
    expect(error.code).toBe('NO_SCENARIOS_FOUND');
    expect(error.message).toMatch(/^empty: no scenario file .* in this directory/m);
    expect(error.message).toMatch(/^docs: no scenario file .* in this directory/m);
    expect(error.message).toMatch(/^zz-\*\.yaml: no scenario file .* matches this pattern/m);
    expect(error.message).not.toMatch(/a\.yaml:/);
  });
});
