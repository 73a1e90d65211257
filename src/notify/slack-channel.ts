import type { DeliveryResult, NotificationChannel } from './channel.js';
import { postJson, urlOrigin } from './http-post.js';
import type { NotificationMessage } from './message.js';

/** Slack's header block takes plain text up to 150 characters. */
const HEADER_MAX = 150;

/** A Slack-compatible incoming webhook: `text` for clients that show no blocks, `blocks` for those that do. */
export class SlackChannel implements NotificationChannel {
  readonly type = 'slack';
  readonly destination: string;

  constructor(
    readonly name: string,
    private readonly url: string,
    private readonly timeoutMs: number,
  ) {
    this.destination = urlOrigin(url);
  }

  deliver(message: NotificationMessage, signal: AbortSignal): Promise<DeliveryResult> {
    return postJson(this.url, slackPayload(message), this.timeoutMs, signal);
  }
}

export function slackPayload(message: NotificationMessage): Record<string, unknown> {
  return {
    text: `${message.subject}\n\n${message.body}`,
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: message.subject.slice(0, HEADER_MAX) } },
      // Preformatted so the template's lines stay as the runbook lays them out.
      { type: 'section', text: { type: 'mrkdwn', text: `\`\`\`${message.body}\`\`\`` } },
    ],
  };
}
