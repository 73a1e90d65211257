import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { parse, stringify } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { ScenarioValidationError } from '../../src/scenario/issues.js';
import { loadScenarioFiles } from '../../src/scenario/loader.js';
import { ROOT, runCli } from '../e2e/helpers.js';

/**
 * Property: whatever text a scenario file holds, the loader ends in a valid scenario or a list of
 * placed problems, never in another exception, a hang or unbounded memory. Inputs are random
 * YAML-ish text and the shipped scenarios mutated at the text and at the data level (cycles,
 * huge and odd values, deep nesting, unset variables).
 */
const dir = mkdtempSync(path.join(os.tmpdir(), 'drill-loader-fuzz-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SHIPPED = readdirSync(path.join(ROOT, 'drills/scenarios'))
  .filter((f) => f.endsWith('.yaml'))
  .sort()
  .map((f) => readFileSync(path.join(ROOT, 'drills/scenarios', f), 'utf8'));
const ENV = { DRILL_FUZZ: 'value', DRILL_FUZZ_PATH: '/dev/zero' };
/** A hang detector, far above what a load takes on a loaded machine (milliseconds). */
const PER_INPUT_BOUND_MS = 20_000;

const TOKENS = [
  ':', ': ', '- ', ' ', '  ', '\n', '\t', '&a ', '*a', '&b ', '*b', '<<: ', '[', ']', '{', '}', ',', '"', "'", '|', '>', '#', '?', '!!str ', '!!binary ', '%YAML 1.2\n', '---\n', '...\n',
  '${DRILL_FUZZ}', '${UNSET_FUZZ}', '${', '$${X}', 'name', 'targets', 'postgres', 'kubernetes', 'provider', 'external', 'kubeconfig', 'manifests', 'faults', 'recovery',
  'type', 'step', 'pg-fat-finger', 'k8s-pod-kill', 'table', 'index', 'timeout', '600h', '0s', '1e400', '-1', '9'.repeat(400), 'null', '~', 'true', '\u0000', '\uFEFF', '€',
];

const yamlishText = fc.array(fc.constantFrom(...TOKENS), { maxLength: 200 }).map((parts) => parts.join(''));

/** Text-level damage to a shipped scenario: cut, repeat, insert, swap lines. */
const textMutation = fc.oneof(
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat(), length: fc.nat({ max: 200 }) }),
  fc.record({ kind: fc.constant('repeat' as const), at: fc.nat(), length: fc.nat({ max: 200 }), times: fc.integer({ min: 2, max: 50 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: yamlishText }),
  fc.record({ kind: fc.constant('swap' as const), a: fc.nat(), b: fc.nat() }),
);
type TextMutation = typeof textMutation extends fc.Arbitrary<infer T> ? T : never;

function applyText(source: string, m: TextMutation): string {
  const at = (n: number) => (source.length ? n % source.length : 0);
  switch (m.kind) {
    case 'cut':
      return source.slice(0, at(m.at)) + source.slice(at(m.at) + m.length);
    case 'repeat':
      return source.slice(0, at(m.at)) + source.slice(at(m.at), at(m.at) + m.length).repeat(m.times) + source.slice(at(m.at));
    case 'insert':
      return source.slice(0, at(m.at)) + m.text + source.slice(at(m.at));
    case 'swap': {
      const lines = source.split('\n');
      const a = m.a % lines.length;
      const b = m.b % lines.length;
      [lines[a], lines[b]] = [lines[b]!, lines[a]!];
      return lines.join('\n');
    }
  }
}

/** Values a scenario author (or an attacker) might put anywhere. */
const oddValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom('600h', '0ms', '25h', '1e400', '${UNSET_FUZZ}', '${DRILL_FUZZ}', '${DRILL_FUZZ_PATH}', '/dev/zero', '/etc/passwd', '../../..', 'x'.repeat(5000), '', 'transfers', 'k8s-', 'pg-'),
  fc.constantFrom(0, -1, 1.5, 2 ** 31, Number.MAX_SAFE_INTEGER, true, null),
  fc.string({ maxLength: 40 }),
  fc.integer(),
  fc.jsonValue({ maxDepth: 4 }),
  fc.integer({ min: 1, max: 60 }).map((depth) => JSON.parse(`${'['.repeat(depth)}${']'.repeat(depth)}`) as unknown),
);

/** Data-level damage: a value somewhere in the scenario replaced, a key added or removed. */
const dataMutation = fc.record({ pathChoices: fc.array(fc.nat(), { minLength: 1, maxLength: 6 }), value: oddValue, remove: fc.boolean() });
type DataMutation = typeof dataMutation extends fc.Arbitrary<infer T> ? T : never;

function applyData(source: string, m: DataMutation): string {
  const data = parse(source) as unknown;
  let holder: unknown = data;
  for (const choice of m.pathChoices.slice(0, -1)) {
    const children = childrenOf(holder);
    if (children.length === 0) break;
    holder = children[choice % children.length]![1];
  }
  const last = m.pathChoices.at(-1)!;
  if (Array.isArray(holder) && holder.length) {
    if (m.remove) holder.splice(last % holder.length, 1);
    else holder[last % holder.length] = m.value;
  } else if (holder && typeof holder === 'object') {
    const record = holder as Record<string, unknown>;
    const keys = Object.keys(record);
    if (m.remove && keys.length) delete record[keys[last % keys.length]!];
    else record[keys.length && last % 2 ? keys[last % keys.length]! : `fuzz${last}`] = m.value;
  }
  return stringify(data);
}

function childrenOf(value: unknown): Array<[PropertyKey, unknown]> {
  if (Array.isArray(value)) return value.map((v, i) => [i, v]);
  if (value && typeof value === 'object') return Object.entries(value);
  return [];
}

/** Anchors and aliases spliced into a shipped file: cycles through sequences, mappings and merges. */
const aliasMutation = fc.record({ line: fc.nat(), form: fc.constantFrom('a: &c [*c]', 'a: &c {b: *c}', 'a: &c\n  <<: *c', 'a: *nothing', 'a: &c [&d [*c, *d]]') });

const scenarioText = fc.oneof(
  { weight: 2, arbitrary: yamlishText },
  {
    weight: 4,
    arbitrary: fc.tuple(fc.constantFrom(...SHIPPED), fc.array(textMutation, { minLength: 1, maxLength: 4 })).map(([s, ms]) => ms.reduce(applyText, s)),
  },
  {
    weight: 4,
    arbitrary: fc.tuple(fc.constantFrom(...SHIPPED), fc.array(dataMutation, { minLength: 1, maxLength: 4 })).map(([s, ms]) => ms.reduce(applyData, s)),
  },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.constantFrom(...SHIPPED), aliasMutation).map(([s, m]) => {
      const lines = s.split('\n');
      lines.splice(m.line % lines.length, 0, m.form);
      return lines.join('\n');
    }),
  },
);

let written = 0;
function writeCase(text: string): string {
  const file = path.join(dir, `case-${++written}.yaml`);
  writeFileSync(file, text);
  return file;
}

/** What a load ended in: valid, or problems; anything else fails the property. */
async function outcome(file: string): Promise<'valid' | 'invalid'> {
  try {
    await loadScenarioFiles([file], { env: ENV });
    return 'valid';
  } catch (error) {
    if (!(error instanceof ScenarioValidationError)) throw error;
    expect(error.issues.length).toBeGreaterThan(0);
    for (const issue of error.issues) {
      expect(issue.file).toBe(file);
      expect(issue.line).toBeGreaterThanOrEqual(0);
      expect(issue.message.length).toBeGreaterThan(0);
    }
    return 'invalid';
  }
}

describe('the scenario loader under random and mutated input (fast-check)', () => {
  it('every shipped scenario is valid (the seeds the mutations start from)', async () => {
    for (const text of SHIPPED) expect(await outcome(writeCase(text))).toBe('valid');
  });

  it('ends in a scenario or a list of placed problems, never an exception, within a bound', async () => {
    const seen = { valid: 0, invalid: 0 };
    await fc.assert(
      fc.asyncProperty(scenarioText, async (text) => {
        const file = writeCase(text);
        const started = Date.now();
        seen[await outcome(file)]++;
        expect(Date.now() - started).toBeLessThan(PER_INPUT_BOUND_MS);
        rmSync(file);
      }),
      // A few seconds in the suite; FUZZ_RUNS=5000 searches longer by hand.
      { numRuns: Number(process.env.FUZZ_RUNS ?? 150) },
    );
    // Both outcomes occur: mutations that keep a file valid exist (key removal of optional keys).
    expect(seen.invalid).toBeGreaterThan(0);
  }, 120_000);

  it('through the CLI, a sample of such files exits 0 or 2 with no stack trace', async () => {
    const sample = fc.sample(scenarioText, { numRuns: 6, seed: 7 });
    const cyclic = writeCase('a: &a [*a]\n');
    // One process for all of them keeps this part to a second or two.
    const result = await runCli(['validate', ...sample.map(writeCase), cyclic], { env: ENV });
    expect(result.code).toBe(2);
    expect(result.stderr).not.toMatch(/unexpected error|^\s+at /m);
    expect(result.stderr).toContain(`${cyclic}:1:8 a[0]: alias *a is inside the value &a names`);
    expect(result.stderr).toMatch(/\(SCENARIO_INVALID\)\s*$/);
  }, 60_000);
});
