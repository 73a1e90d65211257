import type { DeliveryResult, NotificationChannel } from './channel.js';
import { postJson, urlOrigin } from './http-post.js';
import type { NotificationMessage } from './message.js';

/**
 * A channel that POSTs one JSON document per message to a URL; subclasses say what the document
 * is. Only the URL's origin is ever shown (`destination`): its path may carry a token.
 */
export abstract class JsonWebhookChannel implements NotificationChannel {
  abstract readonly type: 'slack' | 'webhook';
  readonly destination: string;

  constructor(
    readonly name: string,
    private readonly url: string,
    private readonly timeoutMs: number,
  ) {
    this.destination = urlOrigin(url);
  }

  protected abstract payload(message: NotificationMessage): Record<string, unknown>;

  deliver(message: NotificationMessage, signal: AbortSignal): Promise<DeliveryResult> {
    return postJson(this.url, this.payload(message), this.timeoutMs, signal);
  }
}
