import { formatDuration } from '../scenario/duration.js';
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
  /** notifications.updateEvery: the template promises updates this often (default 15 minutes). */
  updateEvery?: number;
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
    `We are actively working to resolve this issue and will provide updates every ${everyText(input.updateEvery)}.`,
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

export interface UpdateInput {
  runId: string;
  scenario: string;
  incidentId: string;
  /** 1 for the first update after the Initial Alert. */
  number: number;
  actionsTaken: string;
  currentState: string;
  nextUpdate: string;
}

/** The update the Initial Alert promises ("updates every 15 minutes", "Next Update: [Time]"), in the same template family. */
export function updateNotice(input: UpdateInput): NotificationMessage {
  const subject = `${DRILL_SUBJECT_PREFIX} [UPDATE] ${PRODUCT} Service Incident - ${input.incidentId}`;
  const body = [
    drillBanner(input.runId, input.scenario),
    '',
    `Update ${input.number} on the ${PRODUCT} service incident.`,
    '',
    'STATUS: Mitigating',
    `ACTIONS TAKEN SO FAR: ${input.actionsTaken}`,
    `CURRENT STATE: ${input.currentState}`,
    '',
    `Incident ID: ${input.incidentId}`,
    `Next Update: ${input.nextUpdate}`,
  ].join('\n');
  const fields = {
    status: 'Mitigating',
    update: String(input.number),
    actionsTaken: input.actionsTaken,
    currentState: input.currentState,
    incidentId: input.incidentId,
    nextUpdate: input.nextUpdate,
  };
  return { template: 'update', subject, body, fields, incidentId: input.incidentId, runId: input.runId, scenario: input.scenario };
}

export interface RollbackNoticeInput {
  runId: string;
  scenario: string;
  incidentId: string;
  /** The scenario's severity: a failed rollback escalates it one level (P0 stays P0). */
  severity: string;
  /** The rollback step (k8s-rollout-undo, migration-rollback, ...) and its title. */
  step: string;
  title: string;
  /** The --environment: the target the rollback acted on. */
  environment: string;
  outcome: 'succeeded' | 'failed';
  /** What it did (on success) or why it failed, from the step's own record. */
  detail: string;
}

/**
 * The automated rollback's messages (send-rollback-success.sh / send-rollback-failure.sh
 * --environment): a failure is an escalation, its subject says so and its severity is raised.
 */
export function rollbackNotice(input: RollbackNoticeInput): NotificationMessage {
  const failed = input.outcome === 'failed';
  const severity = failed ? escalated(input.severity) : input.severity;
  const headline = failed ? 'Rollback failed, escalating' : 'Rollback successful';
  const subject = `${DRILL_SUBJECT_PREFIX} ${failed ? '[ESCALATION]' : '[UPDATE]'} ${PRODUCT} Service Incident - ${input.incidentId}: ${headline}`;
  const body = [
    drillBanner(input.runId, input.scenario),
    '',
    `${headline}: ${input.title} (${input.step}) on ${input.environment}.`,
    ...(failed ? [`The incident is escalated to ${severity}: the rollback did not restore the previous version.`] : []),
    '',
    `STATUS: ${failed ? 'Escalated' : 'Mitigating'}`,
    `SEVERITY: ${severity}`,
    `ENVIRONMENT: ${input.environment}`,
    `${failed ? 'FAILURE' : 'RESULT'}: ${input.detail}`,
    '',
    `Incident ID: ${input.incidentId}`,
  ].join('\n');
  const fields = {
    status: failed ? 'Escalated' : 'Mitigating',
    severity,
    ...(failed ? { escalation: 'true', previousSeverity: input.severity } : {}),
    rollback: input.outcome,
    step: input.step,
    environment: input.environment,
    detail: input.detail,
    incidentId: input.incidentId,
  };
  return { template: failed ? 'rollback-failure' : 'rollback-success', subject, body, fields, incidentId: input.incidentId, runId: input.runId, scenario: input.scenario };
}

export interface DrActivationInput {
  runId: string;
  scenario: string;
  incidentId: string;
  severity: string;
  primaryRegion: string;
  drRegion: string;
  impact: string;
}

/** activate-dr-site.sh: the DR site serves; everyone is told which region was lost and which now serves. */
export function drActivationAlert(input: DrActivationInput): NotificationMessage {
  const headline = `DR site activated: primary region ${input.primaryRegion} lost, DR region ${input.drRegion} serving`;
  const subject = `${DRILL_SUBJECT_PREFIX} [URGENT] ${PRODUCT} Service Incident - ${input.severity}: DR site activated`;
  const body = [
    drillBanner(input.runId, input.scenario),
    '',
    `${headline}.`,
    '',
    'STATUS: Mitigating',
    `IMPACT: ${input.impact}`,
    '',
    `Incident ID: ${input.incidentId}`,
  ].join('\n');
  const fields = { status: 'Mitigating', severity: input.severity, primaryRegion: input.primaryRegion, drRegion: input.drRegion, message: headline, impact: input.impact, incidentId: input.incidentId };
  return { template: 'dr-activation', subject, body, fields, incidentId: input.incidentId, runId: input.runId, scenario: input.scenario };
}

/** One level up: P3 -> P2 -> P1 -> P0 (P0 stays). */
export function escalated(severity: string): string {
  const level = /^P([0-3])$/.exec(severity);
  return level ? `P${Math.max(0, Number(level[1]) - 1)}` : severity;
}

/** The template says "every 15 minutes"; another notifications.updateEvery is said as it is. */
function everyText(ms: number | undefined): string {
  if (ms === undefined || ms === 15 * 60_000) return '15 minutes';
  return formatDuration(ms);
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
