import { z } from 'zod';
import { CLOCK_OFFSET_PATTERN, MAX_CLOCK_OFFSET_MS, MIN_CLOCK_OFFSET_MS, parseClockOffset } from './clock-offset.js';
import { CLOCK_TOLERANCE, duration, WAIT } from './duration-schema.js';
import { manualFields } from './manual-schema.js';
import { restoresService } from './restores-service.js';
import { needs } from './target-needs.js';

/**
 * The clock parts of the scenario format (issue 12, "clock skew"): the `clock-skew` fault on the
 * service's plain processes (libfaketime) and the `clock-sync` step. Kept apart from schema.ts
 * (which composes them) so this vocabulary reads in one place.
 */

export const clockOffset = z
  .string()
  .regex(new RegExp(CLOCK_OFFSET_PATTERN), 'a signed offset like +2h, -10m, +1d or -1h30m (a sign, then a number and a unit: s, m, h, d)')
  .transform((text) => parseClockOffset(text)!)
  .check((ctx) => {
    const abs = Math.abs(ctx.value);
    if (abs < MIN_CLOCK_OFFSET_MS) {
      ctx.issues.push({ code: 'custom', message: 'must be at least 10s either way (the service\'s Date header has one-second resolution: a smaller skew cannot be told from a slow answer)', input: ctx.value });
    } else if (abs > MAX_CLOCK_OFFSET_MS) {
      ctx.issues.push({ code: 'custom', message: 'must be at most 3650d either way', input: ctx.value });
    }
  })
  .meta({ description: 'How far the clock is off: a sign and a duration, e.g. +2h (ahead), -10m (behind), +1d; from 10s to 3650d either way' });

export const clockSkewFault = needs(
  z
    .strictObject({
      type: z.literal('clock-skew'),
      offset: clockOffset,
    })
    .meta({
      description:
        'The service\'s host clock is off by `offset`: its processes are restarted (blue/green, as after a host reboot) with libfaketime preloaded (FAKETIME, monotonic clocks left true), ' +
        'and each is seen answering with a Date header that far off before the fault counts. Needs targets.service and the faketime package (exit 3 without libfaketime.so.1). ' +
        'T_fault: when the restart began (the skewed processes take traffic within it)',
    }),
  'service-processes',
);

export const clockSyncStep = needs(
  z
    .strictObject({
      step: z.literal('clock-sync'),
      timeout: duration(WAIT).default(600_000),
      title: z.string().optional(),
      ...manualFields,
      restoresService,
    })
    .meta({
      description:
        'Fix the host\'s time (NTP) and restart the service\'s processes: a restart like service-restart, without the skew; ' +
        'postcondition: every process (every mode) answers with a Date header within 2 s of the drill\'s clock',
    }),
  'service-processes',
);

export const clockRestampStep = needs(
  z
    .strictObject({
      step: z.literal('clock-restamp'),
      within: duration(CLOCK_TOLERANCE)
        .default(2000)
        .meta({ description: 'A transfer whose created_at is further than this from its outbox entry\'s enqueued_at is re-stamped' }),
      timeout: duration(WAIT).default(600_000),
      title: z.string().optional(),
      ...manualFields,
      restoresService,
    })
    .meta({
      description:
        'The data repair after a clock skew, for a release that stamped transfers with its host\'s clock: each service-created transfer gets the enqueued_at of its outbox entry ' +
        '(the database\'s clock, same transaction) as created_at when they differ by more than `within`; postcondition (read back through a new connection): none differs any more and every re-stamped row holds what was written. On a drill target only',
    }),
  'postgres',
  'service-processes',
);
