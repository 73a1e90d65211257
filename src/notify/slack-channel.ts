import { JsonWebhookChannel } from './json-webhook-channel.js';
import type { NotificationMessage } from './message.js';

/** Slack's header block takes plain text up to 150 characters. */
const HEADER_MAX = 150;

/** A Slack-compatible incoming webhook: `text` for clients that show no blocks, `blocks` for those that do. */
export class SlackChannel extends JsonWebhookChannel {
  readonly type = 'slack';

  protected payload(message: NotificationMessage): Record<string, unknown> {
    return slackPayload(message);
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
