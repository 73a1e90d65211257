import { JsonWebhookChannel } from './json-webhook-channel.js';
import type { NotificationMessage } from './message.js';

/** A generic webhook: the template's fields as JSON, for a receiver that routes or stores them. */
export class WebhookChannel extends JsonWebhookChannel {
  readonly type = 'webhook';

  protected payload(message: NotificationMessage): Record<string, unknown> {
    return webhookPayload(message);
  }
}

export function webhookPayload(message: NotificationMessage): Record<string, unknown> {
  return {
    drill: true,
    template: message.template,
    subject: message.subject,
    ...message.fields,
    body: message.body,
    runId: message.runId,
    scenario: message.scenario,
  };
}
