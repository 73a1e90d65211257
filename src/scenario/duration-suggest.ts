import { parseDuration } from './duration.js';

/**
 * People write durations the way they say them (`15 minutes`, `1 hour 30 mins`); offer the short
 * form the format accepts instead of only saying "wrong".
 */
const UNIT_WORDS: [RegExp, string][] = [
  [/^(milliseconds?|millis?|msecs?|ms)$/, 'ms'],
  [/^(seconds?|secs?|s)$/, 's'],
  [/^(minutes?|mins?|m)$/, 'm'],
  [/^(hours?|hrs?|h)$/, 'h'],
];
const AMOUNT_AND_UNIT = /(\d+(?:\.\d+)?)\s*([a-z]+)/g;

export function suggestDuration(text: string): string | undefined {
  const lower = text.trim().toLowerCase();
  let rebuilt = '';
  let consumed = 0;
  for (const match of lower.matchAll(AMOUNT_AND_UNIT)) {
    // Anything but spaces, commas or "and" between parts means this is not a duration at all.
    if (!/^[\s,]*(and\s+)?$/.test(lower.slice(consumed, match.index))) return undefined;
    const unit = UNIT_WORDS.find(([words]) => words.test(match[2]!))?.[1];
    if (!unit) return undefined;
    rebuilt += `${match[1]}${unit}`;
    consumed = match.index + match[0].length;
  }
  if (consumed !== lower.length || rebuilt === text) return undefined;
  return parseDuration(rebuilt) === undefined ? undefined : rebuilt;
}
