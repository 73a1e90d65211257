import { describe, expect, it } from 'vitest';
import { RELEASE_MIGRATIONS } from '../../../src/workload/migrations/index.js';
import { versionOf } from '../../../src/workload/migrations/schema-migration.js';
import { ConfigError, parseConfig } from '../src/config.js';
import { CURRENT_RELEASE, CURRENT_SCHEMA_VERSION, PREVIOUS_RELEASE, RELEASES } from '../src/releases.js';

const GOOD = { DATABASE_URL: 'postgresql://app:s3cret-pw@127.0.0.1:5432/drill', VERSION: '4.4.0', MODE: 'api' };

function problem(env: Record<string, string>, args = {}): ConfigError {
  try {
    parseConfig(env, args);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration from the environment', () => {
  it('takes a complete environment, with defaults for the optional variables', () => {
    const config = parseConfig(GOOD);
    expect(config).toMatchObject({ mode: 'api', readOnly: false, region: 'local', colour: 'blue', port: 8080, bind: '127.0.0.1', logLevel: 'info' });
    expect(config.release.version).toBe('4.4.0');
    const custom = parseConfig({ ...GOOD, READ_ONLY_MODE: 'TRUE', COLOUR: 'green', PORT: '0', BIND: '0.0.0.0', REGION: 'eu-west' }, { mode: 'reader', instance: 'pod-1' });
    expect(custom).toMatchObject({ mode: 'reader', readOnly: true, colour: 'green', port: 0, bind: '0.0.0.0', region: 'eu-west', instance: 'pod-1' });
  });

  it('names the variable of every missing or malformed value, and never repeats a URL (it holds a password)', () => {
    const cases: Array<[Record<string, string>, string, RegExp]> = [
      [{ ...GOOD, DATABASE_URL: '' }, 'DATABASE_URL', /DATABASE_URL is not set/],
      [{ ...GOOD, DATABASE_URL: 'mysql://app:s3cret-pw@h/db' }, 'DATABASE_URL', /scheme mysql: ; expected postgresql/],
      [{ ...GOOD, DATABASE_URL: 'not a url s3cret-pw' }, 'DATABASE_URL', /not a URL/],
      [{ ...GOOD, DATABASE_URL: 'postgresql://app:s3cret-pw@127.0.0.1:5432' }, 'DATABASE_URL', /no host or no database/],
      [{ ...GOOD, VERSION: '' }, 'VERSION', /VERSION is not set/],
      [{ ...GOOD, VERSION: '9.9.9' }, 'VERSION', /"9.9.9" is not a TrustStram release; known releases: 4.3.9, 4.4.0, 4.4.1, 4.4.2, 4.4.3, 4.4.4/],
      [{ ...GOOD, MODE: '' }, 'MODE', /MODE is not set; one of api, worker, scheduler, reader/],
      [{ ...GOOD, MODE: 'batch' }, 'MODE', /"batch" is not one of api, worker, scheduler, reader/],
      [{ ...GOOD, READ_ONLY_MODE: 'yes' }, 'READ_ONLY_MODE', /not one of true, false/],
      [{ ...GOOD, COLOUR: 'red' }, 'COLOUR', /not one of blue, green/],
      [{ ...GOOD, PORT: '80a' }, 'PORT', /not a whole number from 0 to 65535/],
      [{ ...GOOD, PORT: '70000' }, 'PORT', /not a whole number/],
      [{ ...GOOD, BIND: ' ' }, 'BIND', /set but empty/],
      [{ ...GOOD, LOG_LEVEL: 'verbose' }, 'LOG_LEVEL', /not one of fatal, error/],
    ];
    for (const [env, variable, message] of cases) {
      const error = problem(env);
      expect(error.variable, JSON.stringify(env)).toBe(variable);
      expect(error.message).toMatch(message);
      expect(error.message).not.toContain('s3cret-pw');
    }
  });

  it('reader mode prefers READER_DATABASE_URL; the other modes ignore it', () => {
    const env = { ...GOOD, READER_DATABASE_URL: 'postgresql://truststream_reader:x@127.0.0.1:5432/drill' };
    expect(parseConfig(env, { mode: 'reader' }).databaseUrl).toBe(env.READER_DATABASE_URL);
    expect(parseConfig(env, { mode: 'api' }).databaseUrl).toBe(GOOD.DATABASE_URL);
    expect(problem({ ...env, READER_DATABASE_URL: 'nope' }, { mode: 'reader' }).variable).toBe('READER_DATABASE_URL');
  });
});

describe('the release catalogue', () => {
  it('good releases expect the newest migration of the drill data set', () => {
    // Adding a migration without updating CURRENT_SCHEMA_VERSION (or the reverse) fails here.
    expect(CURRENT_SCHEMA_VERSION).toBe(versionOf(RELEASE_MIGRATIONS.at(-1)!.name));
    expect(RELEASES[CURRENT_RELEASE]!.expectedSchemaVersion).toBe(CURRENT_SCHEMA_VERSION);
    expect(RELEASES[PREVIOUS_RELEASE]!.expectedSchemaVersion).toBe(CURRENT_SCHEMA_VERSION);
  });

  it('has exactly one release per way of breaking, and the mismatch release expects a schema no migration ships', () => {
    const broken = Object.values(RELEASES).filter((r) => r.startupDefect || r.writesMissingColumn || r.addedLatencyMs || r.stampsWithAppClock || r.expectedSchemaVersion !== CURRENT_SCHEMA_VERSION);
    expect(broken.map((r) => r.version)).toEqual(['4.4.1', '4.4.2', '4.4.3', '4.4.4', '4.4.5']);
    const mismatch = RELEASES['4.4.2']!;
    expect(RELEASE_MIGRATIONS.some((m) => versionOf(m.name) === mismatch.expectedSchemaVersion)).toBe(false);
    expect(RELEASES['4.4.4']!.addedLatencyMs).toBeGreaterThan(500);
  });
});
