/**
 * RTO (DESIGN.md section 4, measured and conservative): from T_fault to the restored instant `s`
 * (src/assertions/restored-instant.ts). Reported beside it: the uncertainty (the true restoration
 * lies after the failing sample that precedes `s`), time to verified recovery and each runbook
 * step's duration.
 */
import type { ActivityRecord, Journal, Measurements } from '../engine/journal-types.js';
import { formatDuration, formatDurationBound } from '../scenario/duration.js';
import { breachWord, type Assessment, type Expect } from './assessment.js';
import { describeSample, sampleDetails, serviceProbeNames, serviceSamples } from './probes.js';
import { findRestoredInstant, restoringStep, type RestoredInstant } from './restored-instant.js';
import { failoverWindowText } from './failover-window.js';

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

/**
 * "RTO ≤ 1.19s (restored between T_fault+930ms and T_fault+1.19s)": the measured RTO is an upper
 * bound, the failing sample before it the lower one. Rounded outwards, never in RTO's favour.
 */
export function rtoBoundsText(m: Pick<Measurements, 'rtoMs' | 'rtoLowerBoundMs'>): string | undefined {
  if (m.rtoMs === undefined) return undefined;
  const upper = formatDurationBound(m.rtoMs, 'up');
  // A journal from before the lower bound was recorded: no bracket to show.
  if (m.rtoLowerBoundMs === undefined) return `RTO ≤ ${upper}`;
  return `RTO ≤ ${upper} (restored between T_fault+${formatDurationBound(m.rtoLowerBoundMs, 'down')} and T_fault+${upper})`;
}

/** rtoMs, its lower bound and the uncertainty between them, from a restored instant. */
export function rtoMeasurements(restored: RestoredInstant, tFault: number): Required<Pick<Measurements, 'rtoMs' | 'rtoLowerBoundMs' | 'rtoUncertaintyMs'>> {
  const rtoMs = restored.at - tFault;
  // No failing sample before `s`: the fault itself is the only lower bound known.
  const rtoLowerBoundMs = (restored.lastFailureBefore?.t ?? tFault) - tFault;
  return { rtoMs, rtoLowerBoundMs, rtoUncertaintyMs: rtoMs - rtoLowerBoundMs };
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
  const step = restoringStep(journal);
  const { restored, lastFailure } = findRestoredInstant(samples, probeNames, expect.stability, step);
  const details: Record<string, unknown> = {
    tFault,
    stabilityMs: expect.stability,
    serviceProbes: probeNames,
    samplesAfterFault: samples.length,
    ...(step ? { restoringStep: step } : {}),
    ...(restored
      ? {
          window: restored.window,
          boundBy: restored.boundBy,
          ...(restored.lastFailureBefore ? { lastFailureBefore: sampleDetails(restored.lastFailureBefore) } : {}),
        }
      : {}),
    ...(lastFailure ? { lastFailure: sampleDetails(lastFailure) } : {}),
    ...reported,
  };

  const window = failoverWindowText(journal, tFault);
  if (restored === undefined) {
    const why =
      step && step.end === undefined
        ? `the step that restores the service, ${step.step}, never finished`
        : lastFailure !== undefined
          ? `last failure: ${describeSample(lastFailure, tFault)}`
          : probeNames.length === 0
            ? 'no service probe is declared'
            : `the service probes (${probeNames.join(', ')}) were not all observed for that long after the fault`;
    return {
      verdict: {
        check: 'rto',
        status: 'failed',
        message: `recovery never stabilised: no instant after the fault from which every service probe passed for ${formatDuration(expect.stability)} (${why})${window ? `; ${window}` : ''}`,
        limit,
        details,
      },
      measurements: reported,
    };
  }

  const measured = rtoMeasurements(restored, tFault);
  const { rtoMs } = measured;
  const passed = rtoMs < limit;
  const bounds = rtoBoundsText(measured)!;
  const heldBy = 'step' in restored.boundBy ? `${restored.boundBy.step} ended` : `'${restored.boundBy.probe}' passed again`;
  const stable = `every service probe passing for ${formatDuration(expect.stability)} from when ${heldBy}${window ? `; ${window}` : ''}`;
  return {
    verdict: {
      check: 'rto',
      status: passed ? 'passed' : 'failed',
      message: passed
        ? `${bounds} within ${formatDuration(limit)}: ${stable}`
        : `${bounds} ${breachWord(rtoMs, limit)} ${formatDuration(limit)}: ${stable}`,
      measured: rtoMs,
      limit,
      details,
    },
    measurements: { ...measured, ...reported },
  };
}
