import { z } from 'zod';
import { DURATION_PATTERN, formatDuration, parseDuration } from './duration.js';

/**
 * The scenario's duration type (`500ms`, `30s`, `15m`, `1h`), parsed to milliseconds and bounded
 * per key. Bounds matter: Node runs a timer of more than 2^31-1 ms (24.8 days) after 1 ms, so an
 * unbounded `timeout: 600h` would fire at once, and a zero interval would spin.
 */
export interface DurationBounds {
  /** Inclusive; 0 where zero means something (no tolerance, no wait), else at least 1 ms. */
  min: number;
  /** Inclusive. */
  max: number;
  /** Why the maximum, for the message. */
  why: string;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** The longest a drill may run, and so the longest any wait inside one may be. */
export const MAX_DRILL_MS = DAY;

/** A wait or time limit: positive, and no longer than a drill may run. */
export const WAIT: DurationBounds = { min: 1, max: MAX_DRILL_MS, why: 'a drill runs for at most 24h' };
/** A time span inside the drill where zero means "none" (no stability window, no delay). */
export const SPAN: DurationBounds = { min: 0, max: MAX_DRILL_MS, why: 'a drill runs for at most 24h' };
/** Time between two checks or writes: zero would spin; an hour sees nothing a drill measures. */
export const INTERVAL: DurationBounds = { min: 10, max: HOUR, why: 'a drill checks at least hourly' };
/** A data-loss tolerance: zero is strict; a week covers a weekly backup. */
export const TOLERANCE: DurationBounds = { min: 0, max: 7 * DAY, why: 'a recovery point objective beyond a week is not one a drill can prove' };

/** How far a clock may be off and still count as right: a second is the Date header's resolution; an hour is no longer a tolerance. */
export const CLOCK_TOLERANCE: DurationBounds = { min: 1000, max: HOUR, why: 'a clock an hour off is wrong whatever the tolerance' };

/** The definitions of every duration schema made here, so schema walkers can recognise them. */
const DURATION_DEFS = new WeakSet<object>();

export function duration(bounds: DurationBounds) {
  const schema = z
    .string()
    .regex(new RegExp(DURATION_PATTERN), 'a duration like 500ms, 30s, 15m or 1h')
    .transform((text) => parseDuration(text)!)
    .check((ctx) => {
      const ms = ctx.value;
      if (ms < bounds.min) {
        const message = bounds.min === 1 ? 'must be more than 0 here' : `must be at least ${formatDuration(bounds.min)} here`;
        ctx.issues.push({ code: 'custom', message, input: ms });
      } else if (!(ms <= bounds.max)) {
        // !(<=) also catches Infinity from a number with hundreds of digits.
        ctx.issues.push({ code: 'custom', message: `must be at most ${formatDuration(bounds.max)} here (${bounds.why})`, input: ms });
      }
    })
    .meta({
      description: `Duration: a number and a unit (ms, s, m, h), e.g. 500ms, 30s, 15m, 1m30s; from ${formatDuration(bounds.min)} to ${formatDuration(bounds.max)}`,
    });
  DURATION_DEFS.add(schema._zod.def);
  return schema;
}

/** True for a schema made by `duration()` (after unwrapping defaults and optionals). */
export function isDurationSchema(schema: z.core.$ZodType): boolean {
  // `.meta()` clones a schema but keeps its definition object; compare that.
  return DURATION_DEFS.has(schema._zod.def);
}
