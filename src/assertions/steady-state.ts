/**
 * Steady state before the fault: every service probe reported during the baseline and every one of
 * its samples sent and answered there passed.
 */
import type { Journal } from '../engine/journal-types.js';
import { plural, type Assessment } from './assessment.js';
import { describeSample, formatTime, sampleDetails, serviceProbeNames, serviceSamples } from './probes.js';

/**
 * The baseline on the run clock: from the `baseline` phase's start (else the first sample) up to
 * that phase's end (else T_fault, else the end of the run). Samples taken while an injector works
 * (a server stopped to damage its files) are neither steady state nor after the fault.
 */
export function baselineWindow(journal: Journal): { from: number; to: number } {
  const phase = journal.phases.find((activity) => activity.name === 'baseline');
  return {
    from: phase?.start.t ?? -Infinity,
    to: phase?.end?.t ?? journal.marks.tFault?.t ?? Infinity,
  };
}

export function assessSteadyState(journal: Journal): Assessment {
  const { from, to } = baselineWindow(journal);
  const tFault = journal.marks.tFault?.t;
  const probeNames = serviceProbeNames(journal);
  // Only samples answered within the baseline: one sent just before it ended may have been answered
  // by a service the injector had already broken (seen under load: a 503 sent at T_fault-5ms).
  const samples = serviceSamples(journal, from, to).filter((sample) => sample.t + sample.latencyMs <= to);
  const failures = samples.filter((sample) => !sample.ok);
  const silent = probeNames.filter((name) => !samples.some((sample) => sample.probe === name));
  const details: Record<string, unknown> = {
    baseline: { from: Number.isFinite(from) ? from : null, to: Number.isFinite(to) ? to : null },
    serviceProbes: probeNames,
    samples: samples.length,
    failures: failures.length,
    ...(silent.length ? { silentProbes: silent } : {}),
    ...(failures[0] ? { firstFailure: sampleDetails(failures[0]) } : {}),
  };

  const problems: string[] = [];
  if (probeNames.length === 0) problems.push('no service probe is declared, so steady state cannot be observed');
  for (const name of probeNames) {
    const first = failures.find((sample) => sample.probe === name);
    if (first === undefined) continue;
    const count = failures.filter((sample) => sample.probe === name).length;
    problems.push(`${describeSample(first, tFault)} failed (${plural(count, 'failing sample')} before the fault)`);
  }
  if (silent.length) {
    problems.push(`no sample before the fault from ${silent.map((name) => `probe '${name}'`).join(', ')}`);
  }

  const end = tFault !== undefined ? 'T_fault' : Number.isFinite(to) ? formatTime(to) : 'the end of the run (no T_fault)';
  return {
    verdict: {
      check: 'steady-state',
      status: problems.length ? 'failed' : 'passed',
      message: problems.length
        ? `steady state did not hold: ${problems.join('; ')}`
        : `steady state held: ${plural(samples.length, 'service probe sample')} from ${probeNames.join(', ')} passed before ${end}`,
      details,
    },
    measurements: {},
  };
}
