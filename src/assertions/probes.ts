/** Probe-sample helpers shared by steady state, detection and RTO. */
import type { Journal, ProbeSample } from '../engine/journal-types.js';
import { formatDuration } from '../scenario/duration.js';

/**
 * Names of the service probes: those the scenario declares with `service: true`, plus any probe
 * whose samples say `service: true`. A declared service probe that never reported still counts
 * (and then fails the checks that need its samples): silence is not health.
 */
export function serviceProbeNames(journal: Journal): string[] {
  const names = new Set<string>();
  for (const probe of journal.scenario.definition.workload.probes) if (probe.service) names.add(probe.name);
  for (const sample of journal.probes) if (sample.service) names.add(sample.probe);
  return [...names].sort();
}

/** Service probe samples in time order (stable for equal times), optionally within [from, to). */
export function serviceSamples(journal: Journal, from = -Infinity, to = Infinity): ProbeSample[] {
  return journal.probes
    .map((sample, index) => ({ sample, index }))
    .filter(({ sample }) => sample.service && sample.t >= from && sample.t < to)
    .sort((a, b) => a.sample.t - b.sample.t || a.index - b.index)
    .map(({ sample }) => sample);
}

/** A time on the run clock, relative to T_fault when known: "T_fault+1.2s", "T_fault-300ms", "4.5s". */
export function formatTime(t: number, tFault?: number): string {
  if (tFault === undefined) return `${formatDuration(t)} into the run`;
  const delta = t - tFault;
  return `T_fault${delta < 0 ? '-' : '+'}${formatDuration(Math.abs(delta))}`;
}

/** "probe 'sql' at T_fault+2s (connection refused)". */
export function describeSample(sample: ProbeSample, tFault?: number): string {
  const error = sample.error ? ` (${sample.error})` : '';
  return `probe '${sample.probe}' at ${formatTime(sample.t, tFault)}${error}`;
}

/** What a verdict's details keep of a sample. */
export function sampleDetails(sample: ProbeSample): Record<string, unknown> {
  return { probe: sample.probe, t: sample.t, ok: sample.ok, ...(sample.error ? { error: sample.error } : {}) };
}
