import { formatDuration } from '../../scenario/duration.js';
import { certainSkewMs, clockOffsetBounds, describeSkew } from '../clock-reading.js';

/**
 * A probe's clock check (maxClockSkew): throws when the answer's Date header shows a clock
 * further from the drill's than `maxSkewMs`, beyond what the header's resolution and the round
 * trip leave open. An answer without a Date header fails too: the clock cannot be checked.
 */
export function checkClock(dateHeader: string | null, sentWallMs: number, answeredWallMs: number, maxSkewMs: number, what: string): void {
  const bounds = clockOffsetBounds(dateHeader, sentWallMs, answeredWallMs);
  if (!bounds) throw new Error(`no Date header from ${what}: its clock cannot be checked (maxClockSkew)`);
  const skew = certainSkewMs(bounds, maxSkewMs);
  if (skew !== 0) throw new Error(`clock skew: ${what} answered Date: ${dateHeader}, ${describeSkew(skew)} (maxClockSkew ${formatDuration(maxSkewMs)})`);
}
