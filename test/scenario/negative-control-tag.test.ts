import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { expandScenarioArgs } from '../../src/cli/scenario-args.js';
import { loadScenarioFiles } from '../../src/scenario/loader.js';
import { selectedByTags } from '../../src/scenario/select-by-tags.js';
import { EXPECTED } from '../containers/pg-expected.js';
import { NEGATIVE_CONTROL, negativeControlDisagreement } from '../support/catalogue-outcome.js';

/**
 * A CI gate runs `drill run drills/scenarios --exclude-tag negative-control`: that must be exactly
 * the drills the suite expects to pass. Where the suite says what it expects: the catalogue's
 * titles ("Negative control: ..."), the provider matrix's EXPECTED (test/containers/pg-expected.ts),
 * and every catalogue drill the e2e and kubernetes tests run through the CLI, whose judged outcome
 * `readJournal` (test/e2e/helpers.ts) holds to the tag with `negativeControlDisagreement`.
 */
const ROOT = path.resolve(import.meta.dirname, '../..');
const CATALOGUE = path.join(ROOT, 'drills/scenarios');
const catalogue = await loadScenarioFiles(
  readdirSync(CATALOGUE)
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => path.join(CATALOGUE, f)),
  { requireEnv: false },
);
const negative = (tags: readonly string[]) => tags.includes(NEGATIVE_CONTROL);

describe(`the catalogue's ${NEGATIVE_CONTROL} tag`, () => {
  it('is on a scenario exactly when its title says it is a negative control', () => {
    const mismatched = catalogue
      .filter((l) => negative(l.scenario.tags) !== /^negative control\b/i.test(l.scenario.title))
      .map((l) => `${l.scenario.name}: tags [${l.scenario.tags.join(', ')}], title "${l.scenario.title}"`);
    expect(mismatched).toEqual([]);
    // Not vacuous: both kinds are in the catalogue.
    expect(catalogue.filter((l) => negative(l.scenario.tags)).length).toBeGreaterThan(5);
    expect(catalogue.filter((l) => !negative(l.scenario.tags)).length).toBeGreaterThan(5);
  });

  it('agrees with the provider matrix: expected to fail exactly when tagged', () => {
    const byName = new Map(catalogue.map((l) => [l.scenario.name, l.scenario.tags]));
    const mismatched = Object.entries(EXPECTED)
      .filter(([name, e]) => negative(byName.get(name) ?? []) !== (e.status === 'failed'))
      .map(([name, e]) => `${name}: expected ${e.status}, tags [${(byName.get(name) ?? []).join(', ')}]`);
    expect(mismatched).toEqual([]);
  });

  it(`a gate with --exclude-tag ${NEGATIVE_CONTROL} over drills/scenarios/ runs every drill expected to pass and no other`, async () => {
    const files = await expandScenarioArgs([CATALOGUE]);
    expect(files.length).toBe(catalogue.length);
    const gate = (await loadScenarioFiles(files, { requireEnv: false })).filter((l) => selectedByTags(l.scenario.tags, { tags: [], excludeTags: [NEGATIVE_CONTROL] }));
    const expectedToPass = catalogue.filter((l) => !/^negative control\b/i.test(l.scenario.title));
    expect(gate.map((l) => l.scenario.name).sort()).toEqual(expectedToPass.map((l) => l.scenario.name).sort());
    for (const [name, e] of Object.entries(EXPECTED)) expect(gate.some((l) => l.scenario.name === name), name).toBe(e.status === 'passed');
  });
});

describe('negativeControlDisagreement: the check readJournal applies to every catalogue drill the suite runs', () => {
  it('agreement: a negative control that failed, a drill that passed', () => {
    expect(negativeControlDisagreement('x', ['db', NEGATIVE_CONTROL], 'failed')).toBeUndefined();
    expect(negativeControlDisagreement('x', ['db'], 'passed')).toBeUndefined();
  });
  it('nothing judged is no disagreement (environment error, interrupted, refused input)', () => {
    for (const status of ['environment-error', 'interrupted', 'invalid-input', undefined] as const) {
      expect(negativeControlDisagreement('x', [NEGATIVE_CONTROL], status)).toBeUndefined();
      expect(negativeControlDisagreement('x', [], status)).toBeUndefined();
    }
  });
  it('negative cases: a negative control that passed, an untagged drill that failed', () => {
    expect(negativeControlDisagreement('x', [NEGATIVE_CONTROL], 'passed')).toMatch(/x is tagged negative-control but PASSED/);
    expect(negativeControlDisagreement('y', ['db'], 'failed')).toMatch(/y FAILED but is not tagged negative-control/);
  });
});
