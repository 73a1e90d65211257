import { statSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { glob, isDynamicPattern } from 'tinyglobby';
import { InputError } from '../engine/errors.js';

const SCENARIO_FILE = /\.ya?ml$/i;

/**
 * What `drill run` and `drill validate` were given, as scenario files: a file as named (the loader
 * says what is wrong with it), a directory as its `*.yaml`/`*.yml` files (not recursive: a
 * gate runs the directory it names, a `**` glob reaches further), a glob as the `*.yaml`/`*.yml`
 * files it matches. Each directory's or glob's files are sorted (byte order, so every machine
 * runs them in the same order); arguments keep their order; a file named twice runs once.
 * A directory or glob that yields no scenario is bad input: a gate that runs nothing must not pass.
 */
export async function expandScenarioArgs(args: readonly string[], cwd = process.cwd()): Promise<string[]> {
  const files: string[] = [];
  const empty: string[] = [];
  for (const arg of args) {
    const found = await expandOne(arg, cwd);
    if (found === undefined) files.push(arg);
    else if (found.length === 0) empty.push(arg);
    else files.push(...found);
  }
  if (empty.length > 0) {
    throw new InputError(
      'NO_SCENARIOS_FOUND',
      empty.map((arg) => `${arg}: no scenario file (*.yaml, *.yml) ${isDirectory(path.resolve(cwd, arg)) ? 'in this directory' : 'matches this pattern'}; name a directory or pattern that holds scenarios (e.g. drills/scenarios/)`).join('\n'),
    );
  }
  const seen = new Set<string>();
  return files.filter((f) => {
    const key = path.resolve(cwd, f);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** The files an argument stands for; undefined for a plain file path (kept as given). */
async function expandOne(arg: string, cwd: string): Promise<string[] | undefined> {
  const absolute = path.resolve(cwd, arg);
  if (isDirectory(absolute)) {
    const entries = await readdir(absolute, { withFileTypes: true });
    return byteSorted(entries.filter((e) => SCENARIO_FILE.test(e.name) && !e.isDirectory()).map((e) => path.join(arg, e.name)));
  }
  // An existing file whose name happens to contain glob characters is that file.
  if (!isDynamicPattern(arg) || exists(absolute)) return undefined;
  const matches = await glob(arg, { cwd, onlyFiles: true, expandDirectories: false, absolute: path.isAbsolute(arg) });
  return byteSorted(matches.filter((m) => SCENARIO_FILE.test(m)));
}

function byteSorted(files: string[]): string[] {
  return files.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function exists(p: string): boolean {
  try {
    statSync(p);
    return true;
  } catch {
    return false;
  }
}
