import type { Scenario } from './schema.js';

export const FROM_ENVIRONMENT = '[from environment]';

/**
 * The scenario as it may be recorded: every string that came from `${VAR}` replaced, because a
 * variable is how a password or token gets into a scenario and the pattern-based redaction of
 * reports cannot recognise an arbitrary secret. Numbers and booleans (a duration, a flag) stay.
 */
export function maskEnvironmentValues(scenario: Scenario, paths: ReadonlyArray<readonly PropertyKey[]> = []): Scenario {
  if (paths.length === 0) return scenario;
  const copy = structuredClone(scenario) as unknown as Record<PropertyKey, unknown>;
  for (const path of paths) {
    let node: unknown = copy;
    for (const key of path.slice(0, -1)) node = node && typeof node === 'object' ? (node as Record<PropertyKey, unknown>)[key] : undefined;
    const last = path.at(-1);
    if (node && typeof node === 'object' && last !== undefined && typeof (node as Record<PropertyKey, unknown>)[last] === 'string') {
      (node as Record<PropertyKey, unknown>)[last] = FROM_ENVIRONMENT;
    }
  }
  return copy as unknown as Scenario;
}
