/** Detection latency (DESIGN.md section 4): the first failing service probe sample at/after T_fault. */
import type { Journal } from '../engine/journal-types.js';
import { formatDuration } from '../scenario/duration.js';
import { plural, type Assessment } from './assessment.js';
import { describeSample, sampleDetails, serviceProbeNames, serviceSamples } from './probes.js';

export function assessDetection(journal: Journal): Assessment {
  const tFault = journal.marks.tFault?.t;
  if (tFault === undefined) {
    return {
      verdict: {
        check: 'detection',
        status: 'failed',
        message: 'detection cannot be measured: T_fault was never recorded (the fault was not reported in effect)',
      },
      measurements: {},
    };
  }

  const samples = serviceSamples(journal, tFault);
  const firstFailure = samples.find((sample) => !sample.ok);
  const details = { tFault, serviceProbes: serviceProbeNames(journal), samplesAfterFault: samples.length };
  if (firstFailure === undefined) {
    return {
      verdict: {
        check: 'detection',
        status: 'failed',
        message: `the fault was never observed: no service probe failed after T_fault (${plural(samples.length, 'sample')} after it, all passing)`,
        details,
      },
      measurements: {},
    };
  }

  const detectionLatencyMs = firstFailure.t - tFault;
  return {
    verdict: {
      check: 'detection',
      status: 'passed',
      message: `fault detected ${formatDuration(detectionLatencyMs)} after T_fault: ${describeSample(firstFailure, tFault)} failed`,
      measured: detectionLatencyMs,
      details: { ...details, firstFailure: sampleDetails(firstFailure) },
    },
    measurements: { detectionLatencyMs },
  };
}
