import type { Journal, Stamp } from '../engine/journal-types.js';
import type { RestoredInstant } from '../assertions/restored-instant.js';
import { actionsTakenText, etaText, impactText, nextUpdateText, resolutionTimeText, rootCauseText } from './journal-facts.js';
import type { NotificationMessage } from './message.js';
import { initialAlert, resolutionNotice } from './templates.js';

/** The messages a drill sends, each filled from the journal at the instant it is sent. */

export function detectionAlert(journal: Journal, incidentId: string, now: Stamp): NotificationMessage {
  const definition = journal.scenario.definition;
  return initialAlert({
    runId: journal.runId,
    scenario: definition.name,
    severity: definition.severity,
    status: 'Investigating',
    impact: impactText(journal),
    eta: etaText(journal),
    incidentId,
    nextUpdate: nextUpdateText(now.wall),
  });
}

/** A notify step (runbook Step 2): the runbook is acting on the incident, so STATUS is Mitigating. */
export function stepAlert(journal: Journal, step: { severity: string; message: string; incidentId: string }, now: Stamp): NotificationMessage {
  return initialAlert({
    runId: journal.runId,
    scenario: journal.scenario.definition.name,
    severity: step.severity,
    status: 'Mitigating',
    impact: impactText(journal),
    eta: etaText(journal),
    incidentId: step.incidentId,
    nextUpdate: nextUpdateText(now.wall),
    message: step.message,
  });
}

/**
 * Runbook Scenario 3 "Activate security incident response": the incident is declared, so the alert
 * says what kind of breach and which leaked credentials (fingerprints only, never a value).
 */
export function incidentAlert(journal: Journal, incident: { id: string; breachType: string; severity: string; credentials: string[] }, now: Stamp): NotificationMessage {
  return initialAlert({
    runId: journal.runId,
    scenario: journal.scenario.definition.name,
    severity: incident.severity,
    status: 'Investigating',
    impact: impactText(journal),
    eta: etaText(journal),
    incidentId: incident.id,
    nextUpdate: nextUpdateText(now.wall),
    message:
      `Security incident response activated: breach type ${incident.breachType}` +
      (incident.credentials.length > 0 ? `; leaked credential(s) ${incident.credentials.join(', ')}` : '') +
      '.',
  });
}

export function resolutionMessage(journal: Journal, restored: RestoredInstant, incidentId: string): NotificationMessage {
  return resolutionNotice({
    runId: journal.runId,
    scenario: journal.scenario.definition.name,
    incidentId,
    resolutionTime: resolutionTimeText(journal, restored),
    rootCause: rootCauseText(journal),
    actionsTaken: actionsTakenText(journal),
  });
}
