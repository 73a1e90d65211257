import { readFileSync } from 'node:fs';
import { resolveFromScenario } from '../scenario/scenario-paths.js';
import type { NotificationChannelSpec } from '../scenario/notifications-schema.js';
import type { NotificationChannel } from './channel.js';
import { EmailChannel } from './email-channel.js';
import { SlackChannel } from './slack-channel.js';
import { WebhookChannel } from './webhook-channel.js';

/** The channel of each `notifications.channels` entry; `ca` is read relative to the scenario file (checked at validation). */
export function buildChannel(spec: NotificationChannelSpec, scenarioFile?: string): NotificationChannel {
  switch (spec.type) {
    case 'slack':
      return new SlackChannel(spec.name, spec.url, spec.timeout);
    case 'webhook':
      return new WebhookChannel(spec.name, spec.url, spec.timeout);
    case 'email':
      return new EmailChannel(spec.name, {
        host: spec.host,
        port: spec.port,
        security: spec.security,
        ...(spec.user !== undefined ? { user: spec.user } : {}),
        ...(spec.password !== undefined ? { password: spec.password } : {}),
        from: spec.from,
        to: spec.to,
        timeoutMs: spec.timeout,
        ...(spec.ca !== undefined ? { ca: readFileSync(resolveFromScenario(scenarioFile, spec.ca), 'utf8') } : {}),
      });
  }
}
