import { afterEach, describe, expect, it, vi } from 'vitest';
import { startClock } from '../../src/engine/clock.js';
import { JournalRecorder } from '../../src/engine/journal-recorder.js';
import { loadScenarioFile } from '../../src/scenario/loader.js';
import { FROM_ENVIRONMENT } from '../../src/scenario/mask-environment.js';
import { fixture } from './helpers.js';

afterEach(() => vi.unstubAllEnvs());

describe('values from the environment are never recorded', () => {
  it('the journal keeps the scenario but not what ${VAR} filled in; the engine still gets the real value', async () => {
    const secret = 'postgres://drill:Zx9-not-a-pattern@db.example:5432/app';
    vi.stubEnv('DRILL_TEST_PG_URL', secret);
    vi.stubEnv('DRILL_TEST_RTO', '10m');
    const loaded = await loadScenarioFile(fixture('env.yaml'));
    expect(loaded.scenario.targets.postgres?.url).toBe(secret);

    const journal = new JournalRecorder(startClock(), 'run', loaded).journal;
    expect(journal.scenario.definition.targets.postgres?.url).toBe(FROM_ENVIRONMENT);
    expect(JSON.stringify(journal)).not.toContain('Zx9-not-a-pattern');
    // A number from the environment is not a secret and the judge needs it.
    expect(journal.scenario.definition.expect.rto).toBe(600_000);
  });
});
