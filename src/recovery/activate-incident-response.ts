import type { DrillContext } from '../engine/drill-context.js';
import { StepFailedError } from '../engine/errors.js';
import type { IncidentRecord } from '../engine/journal-types.js';
import { incidentAlert } from '../notify/drill-messages.js';
import type { RecoveryStep } from '../scenario/schema.js';

type ActivateIncidentResponse = Extract<RecoveryStep, { step: 'activate-incident-response' }>;

/**
 * Runbook "Activate security incident response" (activate-incident-response.sh --breach-type): the
 * incident is declared, with an id, its breach type and severity and the credentials known to have
 * leaked (fingerprints), in the journal (`incident`, and an event) and so in the incident report.
 * With `notifications:` channels the declaration is announced at once (an Initial Alert naming the
 * breach, trigger `incident-response`; its delivery is judged by the notification check); without
 * them the record says nobody was told rather than pretending a page went out.
 */
export function activateIncidentResponse(ctx: DrillContext, step: ActivateIncidentResponse): Promise<Record<string, unknown>> {
  const { recorder } = ctx;
  if (recorder.journal.incident) throw new StepFailedError('INCIDENT_ALREADY_ACTIVE', `security incident ${recorder.journal.incident.id} was already declared in this run; keep one activate-incident-response step`);
  const incident: IncidentRecord = {
    id: `SEC-${ctx.runId}`,
    breachType: step.breachType,
    severity: step.severity ?? ctx.scenario.severity,
    declaredAt: ctx.clock.stamp(),
    credentials: (recorder.journal.attacker?.credentials ?? []).map((c) => c.fingerprint),
    notification: 'not sent: the scenario has no notifications: channels',
  };
  recorder.journal.incident = incident;
  let channels: string[] = [];
  if (ctx.notifier.enabled) {
    const incidentId = ctx.notifier.adoptIncidentId(incident.id);
    const records = ctx.notifier.send('incident-response', (now) => incidentAlert(recorder.journal, { ...incident, id: incidentId }, now, ctx.notifier.promisedEvery));
    channels = records.map((r) => r.channel);
    incident.notification = `Initial Alert (incident ${incidentId}) handed to ${channels.join(', ')}; delivery is judged by the notification check`;
  }
  recorder.event(
    'incident-declared',
    `security incident ${incident.id} declared: breach type ${incident.breachType}, severity ${incident.severity}` +
      (incident.credentials.length > 0 ? `, leaked credential(s) ${incident.credentials.join(', ')}` : '') +
      `; ${incident.notification}`,
    { incident },
  );
  return Promise.resolve({ incident: incident.id, breachType: incident.breachType, severity: incident.severity, credentials: incident.credentials, notified: channels.length > 0, channels });
}
