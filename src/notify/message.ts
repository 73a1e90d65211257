/**
 * A message of the runbook's "Communication Templates", ready for any channel: the subject and text
 * as a person reads them, and the template's fields for channels that carry data (the generic
 * webhook). Every subject and text says DRILL, so nobody mistakes a drill for an incident.
 */
/**
 * Which message: the runbook's Initial Alert and Resolution Notice, the update its Initial Alert
 * promises every 15 minutes, the automated rollback's success/failure (send-rollback-success.sh,
 * send-rollback-failure.sh) and the DR activation alert (activate-dr-site.sh).
 */
export type NotificationTemplate = 'initial-alert' | 'update' | 'rollback-success' | 'rollback-failure' | 'dr-activation' | 'resolution-notice';

export interface NotificationMessage {
  template: NotificationTemplate;
  subject: string;
  body: string;
  /** The template's fields by camelCase name (status, impact, eta, incidentId, nextUpdate, ...). */
  fields: Record<string, string>;
  incidentId: string;
  runId: string;
  scenario: string;
}

/** The product name the runbook's templates use. */
export const PRODUCT = 'TrustStram';

/** Put before every subject. */
export const DRILL_SUBJECT_PREFIX = '[DRILL]';

export function drillBanner(runId: string, scenario: string): string {
  return `DRILL - this is a chaos drill (run ${runId}, scenario ${scenario}), not a real incident. No action is needed.`;
}
