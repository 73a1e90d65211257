import type { Journal } from '../engine/journal-types.js';
import { formatDuration } from '../scenario/duration.js';
import { causesOutage, leaksCredentials } from '../scenario/fault-effects.js';
import { findRestoredInstant, restoringStep, type RestoredInstant } from '../assertions/restored-instant.js';
import { formatTime, serviceProbeNames, serviceSamples } from '../assertions/probes.js';
import { rtoBoundsText, rtoMeasurements } from '../assertions/rto.js';

/**
 * What the Communication Templates say, read from the journal as it stands when a message is sent:
 * pure functions, so a test can check a message against the measurements it quotes.
 */

const MAX_ERROR = 200;

/** IMPACT: the service probes failing now (their latest sample since T_fault), with what they saw. */
export function impactText(journal: Journal): string {
  const definition = journal.scenario.definition;
  if (!causesOutage(definition)) {
    return leaksCredentials(definition)
      ? `a credential of the service leaked (${definition.title}); the service itself stays up`
      : `nothing the service uses is down (${definition.title}); the service itself stays up`;
  }
  const tFault = journal.marks.tFault?.t;
  const latest = new Map<string, { ok: boolean; t: number; error?: string }>();
  for (const sample of serviceSamples(journal, tFault ?? -Infinity)) latest.set(sample.probe, sample);
  const failing = [...latest.entries()].filter(([, s]) => !s.ok);
  if (failing.length === 0) return `no service probe failing at the moment (${definition.title})`;
  const since = Math.min(...serviceSamples(journal, tFault ?? -Infinity).filter((s) => !s.ok).map((s) => s.t));
  const list = failing.map(([probe, s]) => `${probe}${s.error ? ` (${clip(s.error)})` : ''}`).join(', ');
  return `service probes failing since ${formatTime(since, tFault)}: ${list}`;
}

/** ETA: the RTO objective after T_fault, as a wall time. */
export function etaText(journal: Journal): string {
  const rto = journal.scenario.definition.expect.rto;
  const tFault = journal.marks.tFault;
  if (!tFault) return `within the RTO objective of ${formatDuration(rto)}`;
  const eta = new Date(Date.parse(tFault.wall) + rto).toISOString();
  return `${eta} (the RTO objective: ${formatDuration(rto)} after the fault at ${tFault.wall})`;
}

/** Next Update: the template promises updates every 15 minutes (notifications.updateEvery). */
export function nextUpdateText(sentWall: string, every = 15 * 60_000): string {
  return new Date(Date.parse(sentWall) + every).toISOString();
}

/** The restored instant by the RTO's own definition, when the service is back for a whole stability window. */
export function verifiedRestoration(journal: Journal): RestoredInstant | undefined {
  const tFault = journal.marks.tFault?.t;
  if (tFault === undefined) return undefined;
  const { restored } = findRestoredInstant(serviceSamples(journal, tFault), serviceProbeNames(journal), journal.scenario.definition.expect.stability, restoringStep(journal));
  return restored;
}

/** RESOLUTION TIME: the measured RTO with its bounds, as every report prints it. */
export function resolutionTimeText(journal: Journal, restored: RestoredInstant): string {
  return rtoBoundsText(rtoMeasurements(restored, journal.marks.tFault!.t))!;
}

/** ROOT CAUSE: the faults the drill injected. */
export function rootCauseText(journal: Journal): string {
  const faults = journal.events.filter((e) => e.kind === 'fault').map((e) => e.message);
  return faults.length ? `${faults.join('; ')} (injected by the drill)` : 'no fault recorded';
}

/** ACTIONS TAKEN: the runbook steps that ran, with their outcome and duration. */
export function actionsTakenText(journal: Journal): string {
  const steps = journal.steps.filter((s) => s.end !== undefined && s.status !== 'skipped');
  if (steps.length === 0) return 'no runbook step ran';
  return steps.map((s) => `${s.title} (${s.status}, ${formatDuration(s.end!.t - s.start.t)})`).join('; ');
}

/** An update's ACTIONS TAKEN SO FAR: the steps that ended, then the one running now. */
export function actionsSoFarText(journal: Journal): string {
  const ended = journal.steps.filter((s) => s.end !== undefined && s.status !== 'skipped');
  const running = journal.steps.filter((s) => s.end === undefined);
  const parts = [...ended.map((s) => `${s.title} (${s.status}, ${formatDuration(s.end!.t - s.start.t)})`), ...running.map((s) => `${s.title} (running)`)];
  return parts.length ? parts.join('; ') : 'no runbook step has started yet';
}

function clip(text: string): string {
  return text.length > MAX_ERROR ? `${text.slice(0, MAX_ERROR)}…` : text;
}
