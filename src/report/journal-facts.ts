/**
 * Facts a reporter derives from the journal for display: the service outage as the probes saw
 * it, the timeline, step durations, fault descriptions. Description only: whether any of this is
 * acceptable is decided by src/assertions and arrives as journal.verdicts.
 */
import type { ActivityRecord, CheckName, Journal, ProbeSample, Verdict } from '../engine/journal-types.js';
import { notificationRows } from './notification-rows.js';
import type { Fault } from '../scenario/schema.js';
import { lastAllowedAttempt, revocationStart } from '../assertions/revocation.js';
import { rtoBoundsText } from '../assertions/rto.js';
import { formatDuration, formatDurationBound } from '../scenario/duration.js';
import { wallAfter } from './markdown.js';

export interface ServiceOutage {
  /** First failing service probe sample after T_fault. */
  firstFail: ProbeSample;
  lastFail: ProbeSample;
  /** First passing service sample after the last failure, when there is one. */
  firstOkAfter?: ProbeSample;
  failingSamples: number;
  samplesAfterFault: number;
}

/** What the service probes saw after T_fault; undefined when no fault or no failing sample. */
export function serviceOutage(journal: Journal): ServiceOutage | undefined {
  const tFault = journal.marks.tFault?.t;
  if (tFault === undefined) return undefined;
  const after = journal.probes.filter((p) => p.service && p.t >= tFault).sort((a, b) => a.t - b.t);
  const failing = after.filter((p) => !p.ok);
  const firstFail = failing[0];
  const lastFail = failing.at(-1);
  if (!firstFail || !lastFail) return undefined;
  const firstOkAfter = after.find((p) => p.ok && p.t > lastFail.t);
  return { firstFail, lastFail, firstOkAfter, failingSamples: failing.length, samplesAfterFault: after.length };
}

/** How long the probes saw the service down: first failure to first pass after the last one. */
export function outageMs(o: ServiceOutage): number {
  return (o.firstOkAfter ?? o.lastFail).t - o.firstFail.t;
}

/**
 * "RTO ≤ 1.19s (restored between T_fault+930ms and T_fault+1.19s)", or undefined when RTO was not
 * measured. The measured RTO is an upper bound: the service was seen back then, and was still
 * seen failing at the lower bound.
 */
export function rtoStatement(journal: Journal): string | undefined {
  return rtoBoundsText(journal.measurements);
}

export function activityMs(a: ActivityRecord): number | undefined {
  return a.end ? a.end.t - a.start.t : undefined;
}

/** `pg-page-corruption (table=transfers, blocks=0,3)`: the injector type and its parameters. */
export function describeFault(fault: Fault): string {
  const params = Object.entries(fault)
    .filter(([key]) => key !== 'type')
    .map(([key, value]) => `${key}=${Array.isArray(value) ? value.join(',') : typeof value === 'object' ? JSON.stringify(value) : String(value)}`);
  return params.length ? `${fault.type} (${params.join(', ')})` : fault.type;
}

export function verdictFor(journal: Journal, check: CheckName): Verdict | undefined {
  return journal.verdicts.find((v) => v.check === check);
}

export function failedVerdicts(journal: Journal): Verdict[] {
  return journal.verdicts.filter((v) => v.status === 'failed');
}

export interface TimelineEntry {
  /** Monotonic time; absent for the few facts only known by wall clock (the run's end). */
  t?: number;
  wall: string;
  event: string;
}

/** Timeline rows from the marks and the recovery steps, in monotonic order. */
export function timeline(journal: Journal): TimelineEntry[] {
  const { marks, measurements } = journal;
  const def = journal.scenario.definition;
  const rows: TimelineEntry[] = [{ t: 0, wall: journal.startedAt, event: 'Drill started' }];
  if (marks.tFault) {
    const faults = def.faults.map(describeFault).join('; ');
    rows.push({ ...marks.tFault, event: `Incident start: fault injected and in effect — ${faults}` });
  }
  if (marks.tDetected) {
    const probe = serviceOutage(journal)?.firstFail.probe;
    rows.push({ ...marks.tDetected, event: `Incident detected${probe ? `: first failing service probe \`${probe}\`` : ''}` });
  }
  if (marks.tRecoveryStart) rows.push({ ...marks.tRecoveryStart, event: 'Recovery initiated: runbook steps begin' });
  for (const step of journal.steps) {
    rows.push({ ...step.start, event: `Step \`${step.name}\` started: ${step.title}` });
    if (step.end) {
      const took = activityMs(step);
      const error = step.error ? ` — ${step.error.code}: ${step.error.message}` : '';
      rows.push({ ...step.end, event: `Step \`${step.name}\` ${step.status}${took === undefined ? '' : ` after ${formatDuration(took)}`}${error}` });
    }
  }
  if (marks.tFault && measurements.rtoMs !== undefined) {
    const lower = measurements.rtoLowerBoundMs;
    if (lower !== undefined && lower < measurements.rtoMs) {
      rows.push({
        t: marks.tFault.t + lower,
        wall: wallAfter(marks.tFault.wall, lower),
        event: 'Last failing service probe sample before the service was seen restored: the true restoration lies after this',
      });
    }
    rows.push({
      t: marks.tFault.t + measurements.rtoMs,
      wall: wallAfter(marks.tFault.wall, measurements.rtoMs),
      event: `Service seen restored: ${rtoStatement(journal)}; every service probe passing for ${formatDuration(def.expect.stability)} from here`,
    });
  }
  for (const credential of journal.attacker?.credentials ?? []) {
    rows.push({ ...credential.leakedAt, event: `Credential leaked to the attacker: ${credential.kind} ${credential.name} (${credential.fingerprint})` });
  }
  if (journal.incident) rows.push({ ...journal.incident.declaredAt, event: `Security incident ${journal.incident.id} declared (breach type ${journal.incident.breachType}, ${journal.incident.severity})` });
  if (journal.forensics) rows.push({ ...journal.forensics.end, event: `Forensic evidence preserved: ${journal.forensics.artifacts.length} file(s) hashed${journal.forensics.gaps.length > 0 ? `, ${journal.forensics.gaps.length} not collected` : ''}` });
  const start = revocationStart(journal);
  if (start && marks.tFault && measurements.timeToRevokeMs !== undefined && measurements.credentialExposureMs !== undefined) {
    const lastAllowed = lastAllowedAttempt(journal);
    if (lastAllowed) {
      rows.push({ t: lastAllowed.t, wall: wallAfter(marks.tFault.wall, lastAllowed.t - marks.tFault.t), event: 'Last attacker use allowed with the leaked credential: the true revocation lies after this' });
    }
    rows.push({
      t: marks.tFault.t + measurements.credentialExposureMs,
      wall: wallAfter(marks.tFault.wall, measurements.credentialExposureMs),
      event: `Leaked credential seen revoked (an attacker use refused, none allowed after it): time-to-revoke ≤ ${formatDurationBound(measurements.timeToRevokeMs, 'up')} from ${start.from}`,
    });
  }
  rows.push(...notificationRows(journal));
  if (marks.tRecoveryEnd) rows.push({ ...marks.tRecoveryEnd, event: 'Recovery steps finished' });
  if (marks.tVerified) rows.push({ ...marks.tVerified, event: 'Full resolution confirmed: integrity checks done (verified recovery)' });
  if (journal.error && journal.endedAt) {
    rows.push({ wall: journal.endedAt, event: `Run ended with ${journal.status ?? 'an error'}: ${journal.error.code}: ${journal.error.message}` });
  }
  // Stable sort; entries known only by wall clock go last (they are the run's end).
  return rows
    .map((row, i) => ({ row, i }))
    .sort((a, b) => (a.row.t ?? Infinity) - (b.row.t ?? Infinity) || a.i - b.i)
    .map(({ row }) => row);
}
