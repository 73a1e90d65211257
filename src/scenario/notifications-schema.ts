import { z } from 'zod';
import { duration, WAIT } from './duration-schema.js';
import { restoresService } from './restores-service.js';
import { needs } from './target-needs.js';
import { manualFields } from './manual-schema.js';

/**
 * The stakeholder-notification parts of the scenario format (runbook "Step 2: Stakeholder
 * Notification" and "Communication Templates"): where messages go (`notifications:`), the `notify`
 * recovery step and the limit of the `notification` check. Composed by schema.ts.
 */

const channelName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and dashes')
  .max(64)
  .meta({ description: 'Names the channel in the journal and reports (its URL is never written: it may carry a token)' });

/** How often updates go out: more than one a second would flood the channels; at most as long as a drill. */
const UPDATE_PERIOD = { ...WAIT, min: 1_000 };

const timeout = duration(WAIT).default(10_000).meta({ description: 'One delivery attempt without an answer after this counts as failed' });

const webhookUrl = z
  .string()
  .max(2048)
  // A ${VAR} left unset (drill list does not require the environment) is reported as unset, not as a bad URL.
  .refine((url) => url.includes('${') || (/^https?:\/\//.test(url) && URL.canParse(url)), 'an http:// or https:// URL, e.g. https://hooks.slack.com/services/${SLACK_WEBHOOK_PATH}')
  .meta({ description: 'The URL POSTed to; put its token in an environment variable (url: https://hooks.slack.com/services/${SLACK_WEBHOOK_PATH}): the journal records only its scheme, host and port' });

const slackChannel = z
  .strictObject({ type: z.literal('slack'), name: channelName, url: webhookUrl, timeout })
  .meta({ description: 'A Slack-compatible incoming webhook: JSON with `text` (subject and body) and `blocks` (a header with the subject, a section with the body); any 2xx is delivered' });

const webhookChannel = z
  .strictObject({ type: z.literal('webhook'), name: channelName, url: webhookUrl, timeout })
  .meta({ description: 'A generic webhook: JSON with the template\'s fields (template, subject, status, impact, eta, incidentId, ...), `body` (the text) and `drill: true`; any 2xx is delivered' });

const emailAddress = z.string().email().max(254);

const emailChannel = z
  .strictObject({
    type: z.literal('email'),
    name: channelName,
    host: z.string().min(1).max(253).meta({ description: 'The SMTP server' }),
    port: z
      .union([z.number().int(), z.string().regex(/^[0-9]{1,5}$/, 'a port number, e.g. 587').transform(Number)])
      .pipe(z.number().int().min(1).max(65_535))
      .default(587)
      .meta({ description: 'The SMTP port (587 submission with STARTTLS, 465 with tls); a number, or ${VAR} holding one' }),
    security: z
      .enum(['starttls', 'tls', 'none'])
      .default('starttls')
      .meta({ description: 'starttls: the session must be upgraded with STARTTLS before anything is sent (fails when the server does not offer it); tls: TLS from the first byte (port 465); none: plain SMTP (loopback test servers only)' }),
    user: z.string().min(1).max(256).optional().meta({ description: 'SMTP AUTH user (with password)' }),
    password: z
      .string()
      .min(1)
      .optional()
      .meta({ description: 'SMTP AUTH password: must come from the environment (password: ${SMTP_PASSWORD}); it is redacted from every artifact' }),
    ca: z
      .string()
      .min(1)
      .max(4096)
      .optional()
      .meta({ description: 'A PEM file of the CA certificate(s) the server\'s certificate must chain to, relative to the scenario file (a server with a private CA); default: Node\'s trusted CAs' }),
    from: emailAddress,
    to: z.array(emailAddress).min(1).max(100),
    timeout,
  })
  .meta({ description: 'Email over SMTP (nodemailer): one message per notification to every `to` address; delivered once the server accepted it (250 after DATA)' });

export const notificationChannel = z.discriminatedUnion('type', [slackChannel, webhookChannel, emailChannel]);

export const notificationsSettings = z
  .strictObject({
    channels: z.array(notificationChannel).min(1).max(20),
    on: z
      .array(z.enum(['detection', 'update', 'rollback', 'resolution']))
      .refine((list) => new Set(list).size === list.length, 'each trigger once')
      .default(['detection', 'resolution'])
      .meta({
        description:
          'Automatic messages: detection sends the "Initial Alert" (STATUS: Investigating) when a service probe first fails after the fault; resolution the "Resolution Notice" once recovery is verified (every service probe passed for expect.stability); ' +
          'update the "[UPDATE]" message every updateEvery from the first Initial Alert until the Resolution Notice (what was done so far, the current probe state, the next update); ' +
          'rollback "Rollback successful" or "Rollback failed, escalating" when a rollback step (k8s-rollout-undo, k8s-auto-rollback, migration-rollback) ends. ' +
          'activate-dr-site always announces the DR activation when there are channels',
      }),
    incidentId: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, 'letters, digits and . _ : -')
      .max(100)
      .optional()
      .meta({ description: 'The incident id every message carries (default: DRILL-<UTC date-time of the first message>, the runbook\'s $(date +%Y%m%d-%H%M%S))' }),
    updateEvery: duration(UPDATE_PERIOD)
      .default(15 * 60_000)
      .meta({ description: 'With on: [update]: how often the "[UPDATE]" message goes out while the incident is open (the runbook promises every 15 minutes)' }),
    updateTolerance: duration(WAIT)
      .default(30_000)
      .meta({ description: 'The notification check accepts a gap between two messages of the incident (Initial Alert, updates, Resolution Notice) of updateEvery plus this, on every channel' }),
    attempts: z.number().int().min(1).max(10).default(3).meta({ description: 'Delivery attempts per message and channel before it is reported undelivered' }),
    retryDelay: duration(WAIT).default(1000).meta({ description: 'Wait before the second attempt, doubled before each further one' }),
  })
  .meta({
    description:
      'Runbook "Stakeholder Notification": the channels the runbook\'s Communication Templates go to. Every subject and body says DRILL. Delivery runs beside the drill (it never delays a runbook step) and is journaled on the drill\'s clock',
  });

// Needs no target: it talks to the channels of notifications: (a cross-key rule checks they are there).
export const notifyStep = needs(
  z
    .strictObject({
      step: z.literal('notify'),
      severity: z.enum(['P0', 'P1', 'P2', 'P3']).optional().meta({ description: 'The runbook\'s --severity (default: the scenario\'s severity)' }),
      message: z.string().min(1).max(2000).meta({ description: 'The runbook\'s --message, e.g. "Initiating emergency rollback for TrustStram v4.4"' }),
      incidentId: z
        .string()
        .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, 'letters, digits and . _ : -')
        .max(100)
        .optional()
        .meta({ description: 'The runbook\'s --incident-id (default: the drill\'s incident id)' }),
      timeout: duration(WAIT).default(600_000),
      ...manualFields,
      title: z.string().optional(),
      restoresService,
    })
    .meta({
      description:
        'Runbook "Step 2: Stakeholder Notification" (send-emergency-alert.sh): the "Initial Alert" (STATUS: Mitigating, with the message) to every channel of notifications:. ' +
        'Delivery goes on beside the next steps and is judged by the notification check, so a channel that is down never delays or fails the runbook',
    }),
);

export const notificationLimit = duration(WAIT)
  .default(60_000)
  .meta({
    description:
      'With notifications: the "Initial Alert" must be delivered on every channel within this of detection (of T_fault for a fault no probe sees), and the "Resolution Notice" after verified recovery',
  });

export const notificationUpdatesExpected = z
  .boolean()
  .optional()
  .meta({ description: 'The notification check judges the periodic updates (default: when notifications.on includes update): delivered on every channel, no gap longer than updateEvery + updateTolerance between the first Initial Alert and the Resolution Notice' });

export type NotificationChannelSpec = z.output<typeof notificationChannel>;
export type NotificationsSettings = z.output<typeof notificationsSettings>;
export type NotifyStep = z.output<typeof notifyStep>;
