import type { Journal, Stamp } from '../engine/journal-types.js';
import type { RestoredInstant } from '../assertions/restored-instant.js';
import { actionsSoFarText, actionsTakenText, etaText, impactText, nextUpdateText, resolutionTimeText, rootCauseText } from './journal-facts.js';
import type { NotificationMessage } from './message.js';
import { drActivationAlert, initialAlert, resolutionNotice, rollbackNotice, updateNotice } from './templates.js';

/** The messages a drill sends, each filled from the journal at the instant it is sent. */

export function detectionAlert(journal: Journal, incidentId: string, now: Stamp, every?: number): NotificationMessage {
  const definition = journal.scenario.definition;
  return initialAlert({
    runId: journal.runId,
    scenario: definition.name,
    severity: definition.severity,
    status: 'Investigating',
    impact: impactText(journal),
    eta: etaText(journal),
    incidentId,
    nextUpdate: nextUpdateText(now.wall, every),
    ...(every !== undefined ? { updateEvery: every } : {}),
  });
}

/** A notify step (runbook Step 2): the runbook is acting on the incident, so STATUS is Mitigating. */
export function stepAlert(journal: Journal, step: { severity: string; message: string; incidentId: string }, now: Stamp, every?: number): NotificationMessage {
  return initialAlert({
    runId: journal.runId,
    scenario: journal.scenario.definition.name,
    severity: step.severity,
    status: 'Mitigating',
    impact: impactText(journal),
    eta: etaText(journal),
    incidentId: step.incidentId,
    nextUpdate: nextUpdateText(now.wall, every),
    ...(every !== undefined ? { updateEvery: every } : {}),
    message: step.message,
  });
}

/**
 * Runbook Scenario 3 "Activate security incident response": the incident is declared, so the alert
 * says what kind of breach and which leaked credentials (fingerprints only, never a value).
 */
export function incidentAlert(journal: Journal, incident: { id: string; breachType: string; severity: string; credentials: string[] }, now: Stamp, every?: number): NotificationMessage {
  return initialAlert({
    runId: journal.runId,
    scenario: journal.scenario.definition.name,
    severity: incident.severity,
    status: 'Investigating',
    impact: impactText(journal),
    eta: etaText(journal),
    incidentId: incident.id,
    nextUpdate: nextUpdateText(now.wall, every),
    ...(every !== undefined ? { updateEvery: every } : {}),
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

/** The update the Initial Alert promised: what has been done so far, what the probes see now, when the next one comes. */
export function updateMessage(journal: Journal, update: { incidentId: string; number: number; every: number }, now: Stamp): NotificationMessage {
  return updateNotice({
    runId: journal.runId,
    scenario: journal.scenario.definition.name,
    incidentId: update.incidentId,
    number: update.number,
    actionsTaken: actionsSoFarText(journal),
    currentState: impactText(journal),
    nextUpdate: nextUpdateText(now.wall, update.every),
  });
}

/** A rollback step ended (send-rollback-success.sh / send-rollback-failure.sh --environment). */
export function rollbackMessage(
  journal: Journal,
  rollback: { incidentId: string; step: string; title: string; environment: string; outcome: 'succeeded' | 'failed'; detail: string },
): NotificationMessage {
  return rollbackNotice({ runId: journal.runId, scenario: journal.scenario.definition.name, severity: journal.scenario.definition.severity, ...rollback });
}

/** activate-dr-site: the DR region serves. */
export function drActivationMessage(journal: Journal, regions: { incidentId: string; primaryRegion: string; drRegion: string }): NotificationMessage {
  return drActivationAlert({
    runId: journal.runId,
    scenario: journal.scenario.definition.name,
    severity: journal.scenario.definition.severity,
    impact: impactText(journal),
    ...regions,
  });
}
