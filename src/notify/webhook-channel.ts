import type { DeliveryResult, NotificationChannel } from './channel.js';
import { postJson, urlOrigin } from './http-post.js';
import type { NotificationMessage } from './message.js';

/** A generic webhook: the template's fields as JSON, for a receiver that routes or stores them. */
export class WebhookChannel implements NotificationChannel {
  readonly type = 'webhook';
  readonly destination: string;

  constructor(
    readonly name: string,
    private readonly url: string,
    private readonly timeoutMs: number,
  ) {
    this.destination = urlOrigin(url);
  }

  deliver(message: NotificationMessage, signal: AbortSignal): Promise<DeliveryResult> {
    return postJson(this.url, webhookPayload(message), this.timeoutMs, signal);
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
