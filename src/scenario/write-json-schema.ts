import { writeFile } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { z } from 'zod';
import { scenarioSchema } from './schema.js';

/**
 * Writes schema/scenario.schema.json for editors (`npm run schema`). Generated from the zod schema
 * so the two cannot disagree; a test fails when the committed file is stale.
 */
export const SCENARIO_JSON_SCHEMA_PATH = fileURLToPath(new URL('../../schema/scenario.schema.json', import.meta.url));

export function renderScenarioJsonSchema(): string {
  // The input side: what a person types, where keys with defaults are optional and durations are text.
  return `${JSON.stringify(z.toJSONSchema(scenarioSchema, { io: 'input' }), null, 2)}\n`;
}

export async function writeScenarioJsonSchema(path = SCENARIO_JSON_SCHEMA_PATH): Promise<void> {
  await writeFile(path, renderScenarioJsonSchema());
}

// Run as a script, not when a test imports renderScenarioJsonSchema.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await writeScenarioJsonSchema();
  process.stdout.write(`wrote ${SCENARIO_JSON_SCHEMA_PATH}\n`);
}
