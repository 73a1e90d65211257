import { formatClockOffset } from '../scenario/clock-offset.js';

/**
 * What an HTTP Date header says about the answering process's clock, relative to the drill's.
 * Pure. The header is the server's time truncated to the second (Node also reuses it for up to a
 * second), and the server wrote it at some instant between the request's sending and its answer
 * on the drill's clock, so the offset lies in [header - answered, header + 1 s - sent] (plus a
 * tenth of a second for Node's cache timer). An interval, never a point: nothing claims a
 * precision the header does not have.
 */
export interface ClockOffsetBounds {
  /** Milliseconds the process's clock is ahead of the drill's, at least (negative: behind). */
  lowMs: number;
  /** ... and at most. */
  highMs: number;
}

const HEADER_RESOLUTION_MS = 1000;
const CACHE_SLACK_MS = 100;

/** Undefined when there is no parsable Date header. */
export function clockOffsetBounds(dateHeader: string | null | undefined, sentWallMs: number, answeredWallMs: number): ClockOffsetBounds | undefined {
  if (!dateHeader) return undefined;
  const header = Date.parse(dateHeader);
  if (!Number.isFinite(header)) return undefined;
  return { lowMs: header - answeredWallMs, highMs: header + HEADER_RESOLUTION_MS + CACHE_SLACK_MS - sentWallMs };
}

/** Whether the bounds allow an offset of `offsetMs` (give or take `slackMs`). */
export function allowsOffset(bounds: ClockOffsetBounds, offsetMs: number, slackMs = 0): boolean {
  return bounds.lowMs - slackMs <= offsetMs && offsetMs <= bounds.highMs + slackMs;
}

/**
 * How far beyond `toleranceMs` the clock is certainly off (0 when the bounds allow an offset within
 * the tolerance): the bound nearest to zero, so a reported skew is never larger than observed.
 */
export function certainSkewMs(bounds: ClockOffsetBounds, toleranceMs: number): number {
  if (bounds.lowMs > toleranceMs) return bounds.lowMs;
  if (bounds.highMs < -toleranceMs) return bounds.highMs;
  return 0;
}

/** "at least +2h ahead" / "at least -9m59s behind", for messages. */
export function describeSkew(skewMs: number): string {
  return `at least ${formatClockOffset(skewMs)} ${skewMs > 0 ? 'ahead of' : 'behind'} the drill's clock`;
}
