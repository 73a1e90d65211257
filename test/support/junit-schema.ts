import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * The JUnit schema CI systems check reports against: junit-10.xsd of the Jenkins xUnit plugin (it
 * validates JUnit reports with it; pytest validates its xunit2
 * output with the same file). tools/fetch-junit-schema.sh puts it in the drill cache from the pytest
 * source distribution that ships it; xmllint (libxml2-utils) validates. `npm run setup` installs both.
 * Missing is a failure that says so, never a skip: a CI run that cannot validate must not pass.
 */
/** tools/fetch-junit-schema.sh pins the same version and hash. */
export const JUNIT_SCHEMA_SOURCE = { pytestVersion: '9.0.3', xsdSha256: 'a1a816f58d1bf95ebabf371994df0b9246dee66ea9572fbec4f9296f1b2c0ff6' };

export function junitSchemaPath(env: NodeJS.ProcessEnv = process.env): string {
  const cache = env.DRILL_CACHE_DIR || path.join(os.homedir(), '.cache', 'drill');
  return path.join(cache, 'junit-schema', `pytest-${JUNIT_SCHEMA_SOURCE.pytestVersion}`, 'junit-10.xsd');
}

export interface SchemaResult {
  valid: boolean;
  /** xmllint's messages (file:line: element ...: Schemas validity error ...), empty when valid. */
  errors: string[];
}

/** Validates one file with `xmllint --schema`; throws (does not skip) when the validator or the schema is missing. */
export function validateJunit(file: string, env: NodeJS.ProcessEnv = process.env): SchemaResult {
  const xsd = requireJunitSchema(env);
  const r = spawnSync('xmllint', ['--noout', '--nonet', '--schema', xsd, file], { encoding: 'utf8', env: { PATH: env.PATH ?? '' } });
  if (r.error) throw missing(`xmllint could not run (${r.error.message})`);
  // xmllint: 0 valid, 3 or 4 schema validity / schema parse error, 1 not well-formed.
  const errors = r.stderr.split('\n').filter((l) => l.trim() !== '' && !/ validates$/.test(l));
  if (r.status === 0) return { valid: true, errors: [] };
  if (r.status === 5) throw new Error(`xmllint could not parse the schema ${xsd}: ${r.stderr}`);
  return { valid: false, errors };
}

function requireJunitSchema(env: NodeJS.ProcessEnv): string {
  const xsd = junitSchemaPath(env);
  if (!existsSync(xsd)) throw missing(`the JUnit schema is not at ${xsd}`);
  const sha = createHash('sha256').update(readFileSync(xsd)).digest('hex');
  if (sha !== JUNIT_SCHEMA_SOURCE.xsdSha256) throw missing(`${xsd} is not the pinned schema (sha256 ${sha})`);
  if (spawnSync('xmllint', ['--version'], { env: { PATH: env.PATH ?? '' } }).error) throw missing('xmllint is not on PATH');
  return xsd;
}

function missing(what: string): Error {
  return new Error(`${what}: run npm run setup (it fetches the Jenkins xUnit junit-10.xsd into the drill cache and, as root, installs libxml2-utils for xmllint)`);
}
