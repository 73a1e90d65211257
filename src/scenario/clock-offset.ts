import { formatDurationBound } from './duration.js';

/**
 * A clock offset as scenario files write it: a sign and a duration, `+2h`, `-10m`, `+1d`,
 * `-1h30m`. The sign is required (ahead or behind is the point of the fault); days are allowed
 * because real skews are often a day or a time-zone's worth of hours.
 */
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PART = /(\d+)(s|m|h|d)/g;
export const CLOCK_OFFSET_PATTERN = '^[+-](\\d+(s|m|h|d))+$';

/**
 * The smallest offset the drill can prove: the service's Date header has one-second resolution and
 * a request takes its round trip, so a few seconds of skew cannot be told from a slow answer.
 */
export const MIN_CLOCK_OFFSET_MS = 10_000;
/** Ten years: libfaketime takes more, but nothing a drill judges depends on a larger one. */
export const MAX_CLOCK_OFFSET_MS = 3650 * 86_400_000;

/** Milliseconds (negative: behind) for an offset string, or undefined when it is not one. */
export function parseClockOffset(text: string): number | undefined {
  if (!new RegExp(CLOCK_OFFSET_PATTERN).test(text)) return undefined;
  let total = 0;
  for (const [, amount, unit] of text.slice(1).matchAll(PART)) total += Number(amount) * UNIT_MS[unit!]!;
  return text.startsWith('-') ? -total : total;
}

/**
 * `+2h`, `-10m`, `+1d2h` (days shown as such: 26h reads worse than 1d2h). The magnitude is rounded
 * toward zero (to 10 ms above a second): a skew in a message is never larger than measured.
 */
export function formatClockOffset(ms: number): string {
  const sign = ms < 0 ? '-' : '+';
  const abs = Math.abs(ms);
  const days = Math.floor(abs / 86_400_000);
  const rest = abs % 86_400_000;
  return `${sign}${days ? `${days}d` : ''}${rest || !days ? formatDurationBound(rest, 'down') : ''}`;
}
