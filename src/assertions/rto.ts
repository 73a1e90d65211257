/**
 * RTO (DESIGN.md section 4): from T_fault to the start of the first window, of the scenario's
 * stability length, in which every service probe passes. Reported beside it: time to verified
 * recovery and each runbook step's duration.
 */
import type { ActivityRecord, Journal, ProbeSample } from '../engine/journal-types.js';
import { formatDuration } from '../scenario/duration.js';
import { breachWord, type Assessment, type Expect } from './assessment.js';
import { describeSample, sampleDetails, serviceProbeNames, serviceSamples } from './probes.js';

export interface StableWindow {
  /** Run-clock time of the passing sample that opens the window. */
  start: number;
  end: number;
}

export interface WindowSearch {
  window?: StableWindow;
  /** The last failing sample seen (after the fault), for messages. */
  lastFailure?: ProbeSample;
}

/**
 * The first window [s, s + stability] such that: s is the time of a passing sample; every sample
 * in the window passed; every probe in `probeNames` has at least one sample in it; and the
 * samples reach s + stability (the window was observed to its end). `samples` must be in time order.
 * A failure inside a candidate window moves the next candidate past that failure.
 */
export function findStableWindow(samples: readonly ProbeSample[], probeNames: readonly string[], stability: number): WindowSearch {
  const failures = samples.filter((sample) => !sample.ok);
  const lastFailure = failures.at(-1);
  const lastT = samples.at(-1)?.t;
  if (lastT === undefined || probeNames.length === 0) return { lastFailure };

  let first = 0; // index of the first sample at/after the candidate start (for equal times)
  for (let i = 0; i < samples.length; i++) {
    const candidate = samples[i]!;
    if (!candidate.ok) continue;
    const start = candidate.t;
    const end = start + stability;
    if (end > lastT) break;
    while (samples[first]!.t < start) first++;

    const seen = new Set<string>();
    let failureIndex = -1;
    for (let j = first; j < samples.length && samples[j]!.t <= end; j++) {
      if (!samples[j]!.ok) failureIndex = j;
      else seen.add(samples[j]!.probe);
    }
    if (failureIndex >= 0) {
      // The next candidate is the first passing sample after the last failure seen (a failure at
      // the candidate's own instant may sort before it: never step back).
      i = Math.max(i, failureIndex);
      continue;
    }
    if (probeNames.every((name) => seen.has(name))) return { window: { start, end }, lastFailure };
  }
  return { lastFailure };
}

/** end - start of each step that ended, keyed by step name; a repeated name gets `#2`, `#3`, ... */
export function stepDurations(steps: readonly ActivityRecord[]): Record<string, number> {
  const durations: Record<string, number> = {};
  const seen = new Map<string, number>();
  for (const step of steps) {
    const occurrence = (seen.get(step.name) ?? 0) + 1;
    seen.set(step.name, occurrence);
    if (step.end === undefined) continue;
    durations[occurrence === 1 ? step.name : `${step.name}#${occurrence}`] = step.end.t - step.start.t;
  }
  return durations;
}

export function assessRto(
  journal: Journal,
  expect: Pick<Expect, 'rto' | 'stability'> = journal.scenario.definition.expect,
): Assessment {
  const limit = expect.rto;
  const tFault = journal.marks.tFault?.t;
  const stepDurationsMs = stepDurations(journal.steps);
  const tVerified = journal.marks.tVerified?.t;
  const verifiedRecoveryMs = tFault !== undefined && tVerified !== undefined ? tVerified - tFault : undefined;
  const reported = { stepDurationsMs, ...(verifiedRecoveryMs !== undefined ? { verifiedRecoveryMs } : {}) };

  if (tFault === undefined) {
    return {
      verdict: {
        check: 'rto',
        status: 'failed',
        message: 'RTO cannot be measured: T_fault was never recorded (the fault was not reported in effect)',
        limit,
        details: { ...reported },
      },
      measurements: reported,
    };
  }

  const probeNames = serviceProbeNames(journal);
  const samples = serviceSamples(journal, tFault);
  const { window, lastFailure } = findStableWindow(samples, probeNames, expect.stability);
  const details: Record<string, unknown> = {
    tFault,
    stabilityMs: expect.stability,
    serviceProbes: probeNames,
    samplesAfterFault: samples.length,
    ...(window ? { window } : {}),
    ...(lastFailure ? { lastFailure: sampleDetails(lastFailure) } : {}),
    ...reported,
  };

  if (window === undefined) {
    const why =
      lastFailure !== undefined
        ? `last failure: ${describeSample(lastFailure, tFault)}`
        : probeNames.length === 0
          ? 'no service probe is declared'
          : `the service probes (${probeNames.join(', ')}) were not all observed for that long after the fault`;
    return {
      verdict: {
        check: 'rto',
        status: 'failed',
        message: `recovery never stabilised: no ${formatDuration(expect.stability)} window after the fault in which every service probe passed (${why})`,
        limit,
        details,
      },
      measurements: reported,
    };
  }

  const rtoMs = window.start - tFault;
  const passed = rtoMs < limit;
  const stable = `every service probe passed for ${formatDuration(expect.stability)} from T_fault+${formatDuration(rtoMs)}`;
  return {
    verdict: {
      check: 'rto',
      status: passed ? 'passed' : 'failed',
      message: passed
        ? `RTO ${formatDuration(rtoMs)} within ${formatDuration(limit)}: ${stable}`
        : `RTO ${formatDuration(rtoMs)} ${breachWord(rtoMs, limit)} ${formatDuration(limit)}: ${stable}`,
      measured: rtoMs,
      limit,
      details,
    },
    measurements: { rtoMs, ...reported },
  };
}
