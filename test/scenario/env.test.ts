import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadScenarioFile } from '../../src/scenario/loader.js';
import { fixture, validationError } from './helpers.js';

// Looks like a credential on purpose: it must never appear in an error message.
const SECRET = 'postgres://drill:s3cr3t-pa55@db.internal/bank';

describe('${VAR} interpolation', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('fills string values from the environment at load time', async () => {
    vi.stubEnv('DRILL_TEST_PG_URL', SECRET);
    vi.stubEnv('DRILL_TEST_RTO', '10m');

    const { scenario, source } = await loadScenarioFile(fixture('env.yaml'));

    expect(scenario.targets.postgres?.url).toBe(SECRET);
    expect(scenario.expect.rto).toBe(600_000);
    // $${...} is the escape for a literal.
    expect(scenario.tags).toEqual(['external', '${LITERAL}']);
    // The source kept as evidence is the file, not the filled-in values.
    expect(source).not.toContain(SECRET);
  });

  it('takes the variables from options.env when given', async () => {
    const { scenario } = await loadScenarioFile(fixture('env.yaml'), {
      env: { DRILL_TEST_PG_URL: SECRET, DRILL_TEST_RTO: '1m' },
    });
    expect(scenario.expect.rto).toBe(60_000);
  });

  it('reports an unset variable by name and key, and never prints a value', async () => {
    const file = fixture('env.yaml');
    const error = await validationError(
      loadScenarioFile(file, { env: { DRILL_TEST_RTO: SECRET } }),
    );

    expect(error.issues).toEqual([
      expect.objectContaining({ file, line: 9, column: 10, keyPath: 'targets.postgres.url' }),
      // Set, but not a duration: the key is named, the value is not shown or used for a suggestion.
      expect.objectContaining({ file, line: 21, column: 8, keyPath: 'expect.rto' }),
    ]);
    expect(error.issues[1]).not.toHaveProperty('suggestion');
    expect(error.issues[0]!.message).toMatch(/environment variable DRILL_TEST_PG_URL is not set/);
    expect(error.message).not.toContain(SECRET);
    expect(error.message).not.toContain('s3cr3t');
    expect(JSON.stringify(error.issues)).not.toContain('s3cr3t');
  });

  it('can leave unset variables alone for callers that only display scenarios', async () => {
    const { scenario } = await loadScenarioFile(fixture('env.yaml'), {
      env: { DRILL_TEST_RTO: '2m' },
      requireEnv: false,
    });
    expect(scenario.targets.postgres?.url).toBe('${DRILL_TEST_PG_URL}');
  });
});
