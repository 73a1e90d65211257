import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { InputError } from '../engine/errors.js';
import { formatIssue, ScenarioValidationError, type ScenarioIssue } from './issues.js';
import { loadScenarioFile } from './loader.js';
import { maskEnvironmentValues } from './mask-environment.js';
import type { Severity } from './schema.js';

/**
 * What `drill list` shows. A broken file is an entry with its problems, not a crash: the list is
 * how people find out which scenarios exist, including the ones that need fixing.
 */
export type ScenarioListEntry =
  | { ok: true; file: string; name: string; title: string; severity: Severity; tags: string[] }
  /** `error`: one formatted line per problem, without the "how to fix" footer. */
  | { ok: false; file: string; error: string; issues: ScenarioIssue[] };

const SCENARIO_FILE = /\.ya?ml$/i;

export async function listScenarios(dir = 'drills/scenarios'): Promise<ScenarioListEntry[]> {
  let names: string[];
  try {
    names = (await readdir(dir, { withFileTypes: true }))
      .filter((entry) => entry.isFile() && SCENARIO_FILE.test(entry.name))
      .map((entry) => entry.name)
      .sort();
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : (error as Error).message;
    throw new InputError(
      'SCENARIO_DIR_UNREADABLE',
      `scenario directory ${dir} ${reason} (resolved to ${resolve(dir)}); run from the project root or pass the directory`,
      { cause: error },
    );
  }
  return Promise.all(names.map((name) => entryFor(join(dir, name))));
}

async function entryFor(file: string): Promise<ScenarioListEntry> {
  try {
    // Listing must not need the secrets a run needs, so unset ${VAR}s are not errors here.
    const loaded = await loadScenarioFile(file, { requireEnv: false });
    // Shown as the journal records it: a value from ${VAR} is masked.
    const { name, title, severity, tags } = maskEnvironmentValues(loaded.scenario, loaded.fromEnvironment);
    return { ok: true, file, name, title, severity, tags };
  } catch (error) {
    if (!(error instanceof ScenarioValidationError)) throw error;
    return { ok: false, file, error: error.issues.map(formatIssue).join('\n'), issues: error.issues };
  }
}
