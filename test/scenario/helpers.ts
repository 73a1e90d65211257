import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { ScenarioValidationError } from '../../src/scenario/issues.js';

/** A fixture path relative to the working directory, the way a user types it on the command line. */
export function fixture(name: string): string {
  return relative(process.cwd(), fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url)));
}

/** The validation error a load must fail with. */
export async function validationError(load: Promise<unknown>): Promise<ScenarioValidationError> {
  const error = await load.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ScenarioValidationError);
  return error as ScenarioValidationError;
}
