/** Human durations as scenario files write them: `500ms`, `30s`, `15m`, `1h`, `1m30s`. */
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
export const DURATION_PATTERN = '^(\\d+(\\.\\d+)?(ms|s|m|h))+$';

/** Milliseconds for a duration string, or undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  if (!new RegExp(DURATION_PATTERN).test(text)) return undefined;
  let total = 0;
  for (const [, amount, unit] of text.matchAll(PART)) total += Number(amount) * UNIT_MS[unit!]!;
  return total;
}

/** The inverse, for messages and reports: 61500 -> "1m1.5s". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  if (Math.round(ms) < 1000) return `${Math.round(ms)}ms`;
  // Rounded once, to tenths of a second, before the split: 59.96 s is "1m", never "60s".
  const tenths = Math.round(ms / 100);
  const h = Math.floor(tenths / 36_000);
  const m = Math.floor((tenths % 36_000) / 600);
  const s = (tenths % 600) / 10;
  return [h ? `${h}h` : '', m ? `${m}m` : '', s ? `${s}s` : ''].join('') || '0s';
}

/**
 * A bound, to the millisecond below 1 s and to 10 ms above, rounded the safe way: `up` for an
 * upper bound (an RTO is never shown shorter than measured), `down` for a lower bound.
 * 1187 up -> "1.19s", 1187 down -> "1.18s", 930 -> "930ms".
 */
export function formatDurationBound(ms: number, direction: 'up' | 'down'): string {
  if (!Number.isFinite(ms)) return String(ms);
  const round = direction === 'up' ? Math.ceil : Math.floor;
  if (round(ms) < 1000) return `${round(ms)}ms`;
  const centis = round(ms / 10);
  const h = Math.floor(centis / 360_000);
  const m = Math.floor((centis % 360_000) / 6000);
  const s = (centis % 6000) / 100;
  return [h ? `${h}h` : '', m ? `${m}m` : '', s ? `${s}s` : ''].join('') || '0s';
}
