import { InputError } from '../engine/errors.js';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const WHOLE = /^(\d+(\.\d+)?(ms|s|m|h|d|w))+$/;
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g;

/** The longest `--since`: a century is longer than any drill history, and a date that far back still exists. */
const SINCE_MAX_MS = 36_500 * UNIT_MS.d!;

/** `--since`: how recent a passing drill must be to count as covered (`90d`, `2w`, `36h`, `1d12h`). */
export function parseSince(text: string): number {
  const trimmed = text.trim();
  let total = 0;
  if (WHOLE.test(trimmed)) for (const [, amount, unit] of trimmed.matchAll(PART)) total += Number(amount) * UNIT_MS[unit!]!;
  if (!(total > 0) || total > SINCE_MAX_MS) {
    // The flag as given can be long: its start is enough to find it.
    const shown = text.length > 40 ? `${text.slice(0, 40)}…` : text;
    throw new InputError(
      'SINCE_INVALID',
      `--since "${shown}": give a duration greater than zero and at most 36500d like 90d, 2w, 36h or 1d12h (units w, d, h, m, s, ms)`,
    );
  }
  return total;
}

/** `--min-coverage`: a ratio from 0 to 1 (`0.8`), or a percentage (`80%`). */
export function parseMinCoverage(text: string): number {
  const trimmed = text.trim();
  const percent = /^(\d+(\.\d+)?)%$/.exec(trimmed);
  const value = percent ? Number(percent[1]) / 100 : /^\d+(\.\d+)?$/.test(trimmed) ? Number(trimmed) : Number.NaN;
  if (!(value >= 0 && value <= 1)) {
    throw new InputError('MIN_COVERAGE_INVALID', `--min-coverage "${text}": give a ratio from 0 to 1 (0.8) or a percentage (80%)`);
  }
  return value;
}
