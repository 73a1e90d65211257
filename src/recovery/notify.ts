import type { DrillContext } from '../engine/drill-context.js';
import { InputError } from '../engine/errors.js';
import { stepAlert } from '../notify/drill-messages.js';
import type { NotifyStep } from '../scenario/notifications-schema.js';

/**
 * Runbook "Step 2: Stakeholder Notification" (send-emergency-alert.sh --severity --message
 * --incident-id): the "Initial Alert" to every channel of `notifications:`. The step hands the
 * message over and ends; delivery (with its retries) goes on beside the next steps and is judged by
 * the notification check, so a channel that is down neither delays the runbook nor fails it.
 */
export async function notify(ctx: DrillContext, step: NotifyStep): Promise<Record<string, unknown>> {
  const notifier = ctx.notifier;
  if (!notifier.enabled) {
    throw new InputError('NOTIFY_WITHOUT_CHANNELS', 'a notify step sends to the channels of notifications:, and the scenario has none; add notifications: { channels: [...] }');
  }
  const severity = step.severity ?? ctx.scenario.severity;
  const records = notifier.send('notify-step', (now) =>
    stepAlert(ctx.recorder.journal, { severity, message: step.message, incidentId: step.incidentId ?? notifier.incidentId(now) }, now, notifier.promisedEvery),
  );
  return {
    template: 'initial-alert',
    severity,
    incidentId: records[0]?.incidentId,
    subject: records[0]?.subject,
    channels: records.map((r) => r.channel),
  };
}
