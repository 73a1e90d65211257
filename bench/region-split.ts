import type { ActivityRecord, Journal } from '../src/engine/journal-types.js';

/**
 * Where the time from region loss to the first successful request in the DR region went, as one
 * real drill's journal recorded it (bench/regions.ts). Phases a drill did not have are absent, not 0.
 * Each phase is what the step measured itself; `rtoMs` is the judged upper bound (never better than
 * observed), so the phases need not add up to it: probes, the TTL window and stability lie between.
 */
export interface RegionDrillSplit {
  runId: string;
  status: string;
  phasesMs: Record<string, number>;
  rtoMs: number;
  rtoLowerBoundMs?: number;
  rtoObjectiveMs: number;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

function output(step: ActivityRecord | undefined): Record<string, unknown> {
  return (step?.output as Record<string, unknown> | undefined) ?? {};
}

export function splitOfRegionDrill(journal: Journal): RegionDrillSplit {
  const tFault = journal.marks.tFault?.t;
  if (tFault === undefined) throw new Error(`run ${journal.runId} recorded no T_fault: nothing to split`);
  const rtoMs = journal.measurements.rtoMs;
  if (rtoMs === undefined) throw new Error(`run ${journal.runId} has no RTO (status ${journal.status}): the service never came back in the DR region`);
  const phases: Record<string, number | undefined> = {};
  phases.detection = journal.marks.tDetected ? journal.marks.tDetected.t - tFault : undefined;

  const activate = output(journal.steps.find((s) => s.name === 'activate-dr-site'));
  phases.fence = num(activate.fenceMs);
  phases.promotion = num(activate.promoteMs);
  phases.drServiceReady = num(activate.readyMs);

  // The UPSERT path: acknowledged, then served by the DNS server.
  const dns = output(journal.steps.find((s) => s.name === 'dns-failover'));
  const acked = num(dns.upsertAckedMs);
  const served = num(dns.verifiedMs);
  if (acked !== undefined && served !== undefined) phases.dnsChange = acked + served;
  // Clients that resolved just before may keep the old answer this long (the old record's TTL).
  phases.ttlWindow = num(dns.staleAnswersPossibleForMs);

  // The health-check path: the first transition to unhealthy after the fault, and the flip as seen.
  const transitions = Array.isArray(activate.healthTransitions) ? (activate.healthTransitions as Array<Record<string, unknown>>) : [];
  const unhealthy = transitions.find((t) => t.healthy === false && num(t.afterFaultMs) !== undefined);
  if (unhealthy) phases.healthCheckDetection = num(unhealthy.afterFaultMs);
  phases.dnsAnswersDr = num(activate.dnsAnswersDrAfterMs);

  return {
    runId: journal.runId,
    status: journal.status ?? 'unknown',
    phasesMs: Object.fromEntries(Object.entries(phases).filter((e): e is [string, number] => e[1] !== undefined).map(([k, v]) => [k, Math.round(v)])),
    rtoMs: Math.round(rtoMs),
    ...(journal.measurements.rtoLowerBoundMs !== undefined ? { rtoLowerBoundMs: Math.round(journal.measurements.rtoLowerBoundMs) } : {}),
    rtoObjectiveMs: journal.scenario.definition.expect.rto,
  };
}

/** Nearest-rank percentile of ascending `sorted` (never interpolated: a value that was observed). */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) throw new Error('no samples');
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
