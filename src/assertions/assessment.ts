/** What every assertion returns: a verdict and the measurements it computed on the way. */
import type { Measurements, Verdict } from '../engine/journal-types.js';
import type { Scenario } from '../scenario/schema.js';

/** The scenario's `expect` block (durations already in milliseconds). */
export type Expect = Scenario['expect'];

export interface Assessment {
  verdict: Verdict;
  measurements: Measurements;
}

/** "exceeds" or "equals": limits are exclusive, so a measurement equal to its limit fails too. */
export function breachWord(measured: number, limit: number): string {
  return measured > limit ? 'exceeds' : 'equals the limit';
}

export function plural(count: number, singular: string, pluralForm = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : pluralForm}`;
}
