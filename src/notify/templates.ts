import { DRILL_SUBJECT_PREFIX, drillBanner, PRODUCT, type NotificationMessage } from './message.js';

/**
 * The runbook's "Communication Templates" ("Initial Alert", "Resolution Notice"), filled in. The
 * fixed sentences are the runbook's own; the fields are the template's, nothing added but the
 * DRILL banner and subject prefix. Pure: the caller reads the facts from the journal
 * (journal-facts.ts).
 */

export interface InitialAlertInput {
  runId: string;
  scenario: string;
  severity: string;
  /** The template's [Investigating/Mitigating/Resolved]. */
  status: 'Investigating' | 'Mitigating';
  impact: string;
  eta: string;
  incidentId: string;
  nextUpdate: string;
  /** A notify step's --message (the runbook's send-emergency-alert.sh takes one). */
  message?: string;
}

export function initialAlert(input: InitialAlertInput): NotificationMessage {
  const subject = `${DRILL_SUBJECT_PREFIX} [URGENT] ${PRODUCT} Service Incident - ${input.severity}`;
  const body = [
    drillBanner(input.runId, input.scenario),
    '',
    `We are currently experiencing a service incident affecting ${PRODUCT}.`,
    ...(input.message ? [input.message] : []),
    '',
    `STATUS: ${input.status}`,
    `IMPACT: ${input.impact}`,
    `ETA: ${input.eta}`,
    '',
    'We are actively working to resolve this issue and will provide updates every 15 minutes.',
    '',
    `Incident ID: ${input.incidentId}`,
    `Next Update: ${input.nextUpdate}`,
  ].join('\n');
  const fields: Record<string, string> = {
    severity: input.severity,
    status: input.status,
    impact: input.impact,
    eta: input.eta,
    incidentId: input.incidentId,
    nextUpdate: input.nextUpdate,
    ...(input.message ? { message: input.message } : {}),
  };
  return { template: 'initial-alert', subject, body, fields, incidentId: input.incidentId, runId: input.runId, scenario: input.scenario };
}

export interface ResolutionNoticeInput {
  runId: string;
  scenario: string;
  incidentId: string;
  resolutionTime: string;
  rootCause: string;
  actionsTaken: string;
}

export function resolutionNotice(input: ResolutionNoticeInput): NotificationMessage {
  const subject = `${DRILL_SUBJECT_PREFIX} [RESOLVED] ${PRODUCT} Service Incident - ${input.incidentId}`;
  const body = [
    drillBanner(input.runId, input.scenario),
    '',
    `The ${PRODUCT} service incident has been resolved.`,
    '',
    `RESOLUTION TIME: ${input.resolutionTime}`,
    `ROOT CAUSE: ${input.rootCause}`,
    `ACTIONS TAKEN: ${input.actionsTaken}`,
    '',
    'All services are now operating normally. We will continue monitoring for the next 2 hours.',
    '',
    'A detailed post-incident report will be published within 24 hours.',
  ].join('\n');
  const fields = { incidentId: input.incidentId, resolutionTime: input.resolutionTime, rootCause: input.rootCause, actionsTaken: input.actionsTaken };
  return { template: 'resolution-notice', subject, body, fields, incidentId: input.incidentId, runId: input.runId, scenario: input.scenario };
}

/** The runbook's default incident id, `$(date +%Y%m%d-%H%M%S)` (UTC), marked as a drill's. */
export function defaultIncidentId(wall: string): string {
  const d = new Date(wall);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `DRILL-${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}-${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}`;
}
