import { z } from 'zod';
import { PROCEDURE_ID_PATTERN } from '../runbook/procedure-ids.js';
import { duration, WAIT } from './duration-schema.js';
import { restoresService } from './restores-service.js';
import { needs } from './target-needs.js';

/**
 * Game days (`drill run --game-day`): a recovery step a person takes part in. Shared by every step
 * kind's schema, so any runbook step can be handed to a person; the rules that depend on how the
 * drill is run (a `manual` step needs --game-day) are in manual-rules.ts.
 */
const instructions = z
  .string()
  .min(1)
  .max(4000)
  .optional()
  .meta({ description: 'What the person does, printed when the drill waits for them (after the runbook procedure named by `procedure`, if any); without either, the step title is printed' });

const procedure = z
  .string()
  .regex(new RegExp(PROCEDURE_ID_PATTERN), 'a runbook procedure id as in `covers:`, e.g. disaster-recovery-scenarios/scenario-2-database-corruption/immediate-response#stop-write-operations')
  .optional()
  .meta({ description: 'The runbook procedure (its id, as in `covers:`) whose commands are printed for the person; checked against --runbook, printed only when drill run is given one' });

/** How long a game day waits for a person at a manual step when the scenario does not say. */
export const DEFAULT_MANUAL_TIMEOUT_MS = 1_800_000;

// Optional rather than defaulted: steps are also built in code (the auto-rollback's own steps, tests), which need not say.
const manualTimeout = duration(WAIT)
  .optional()
  .meta({ description: 'With --game-day: the step fails when nobody ran `drill continue` within this. Default 30m. The scenario `timeout` does not count this wait (it bounds what drill does)' });

export const manualFields = {
  manual: z
    .boolean()
    .optional()
    .meta({
      description:
        'With --game-day the drill stops at this step and waits for `drill continue <run-id>`; the wait is part of the step and of the RTO. Without --game-day the drill performs the step itself. Default false',
    }),
  manualTimeout,
  instructions,
  procedure,
};

/** Work only a person does (a call, a decision, a console outside drill): runs only with --game-day. */
export const manualStep = needs(
  z
    .strictObject({
      step: z.literal('manual'),
      title: z.string().min(1).max(200).meta({ description: 'What the person does, in a line (the step\'s name in the journal and reports)' }),
      manual: z.literal(true).default(true).meta({ description: 'Always true: a person does this step' }),
      manualTimeout,
      instructions,
      procedure,
      timeout: duration(WAIT).default(600_000),
      restoresService,
    })
    .meta({
      description:
        'A step a person does outside drill (a call, a decision, a console): with --game-day the drill prints its instructions and waits for `drill continue <run-id>`; a plain `drill run` refuses it',
    }),
);
