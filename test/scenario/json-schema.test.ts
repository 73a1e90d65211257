import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { renderScenarioJsonSchema, SCENARIO_JSON_SCHEMA_PATH } from '../../src/scenario/write-json-schema.js';

describe('schema/scenario.schema.json', () => {
  it('is up to date with the zod schema (run `npm run schema` after changing it)', async () => {
    expect(await readFile(SCENARIO_JSON_SCHEMA_PATH, 'utf8')).toBe(renderScenarioJsonSchema());
  });

  it('describes the input side: keys with defaults are optional, durations are text', () => {
    const schema = JSON.parse(renderScenarioJsonSchema());
    expect(schema.required).toEqual(['name', 'title', 'runbook', 'severity', 'targets', 'workload', 'faults', 'recovery']);
    expect(schema.properties.expect.properties.rto.type).toBe('string');
    expect(schema.additionalProperties).toBe(false);
  });
});
