/**
 * Blast radius (leaked credentials): revoking what leaked must not lock legitimate users out. The
 * legitimate traffic is the drill's own authenticated use of the service: service probes of an
 * /api/ path (sent with the drill's token) and the canary when it writes through the API. After the
 * runbook's last step every sample of those probes must pass, and the canary must have had a write
 * acknowledged; during the steps a gap is allowed (a rotation hands out new credentials), which RTO
 * bounds.
 */
import type { Journal } from '../engine/journal-types.js';
import { plural, type Assessment } from './assessment.js';
import { describeSample, formatTime } from './probes.js';

/** Probes that send the drill's token: an http probe on the service's /api/ routes (ServiceHttpProbe authenticates those). */
export function legitimateProbeNames(journal: Journal): string[] {
  return journal.scenario.definition.workload.probes
    .filter((p) => p.type === 'http' && p.service && p.target === 'service' && (p.path ?? '/health').startsWith('/api/'))
    .map((p) => p.name)
    .sort();
}

export function assessBlastRadius(journal: Journal): Assessment {
  const tFault = journal.marks.tFault?.t;
  const end = journal.marks.tRecoveryEnd?.t;
  const probes = legitimateProbeNames(journal);
  const canaryViaApi = journal.scenario.definition.workload.canary.via === 'api';
  if (probes.length === 0 && !canaryViaApi) {
    return {
      verdict: {
        check: 'blast-radius',
        status: 'failed',
        message: 'no legitimate authenticated traffic to judge: add a service probe of an /api/ path (type: http, target: service) or write the canary via: api',
      },
      measurements: {},
    };
  }
  if (end === undefined) {
    return {
      verdict: { check: 'blast-radius', status: 'failed', message: 'the runbook\'s steps never finished: legitimate traffic after them was not observed', details: { probes, canaryViaApi } },
      measurements: {},
    };
  }
  const problems: string[] = [];
  const perProbe: Record<string, { samples: number; failed: number }> = {};
  for (const name of probes) {
    const samples = journal.probes.filter((s) => s.probe === name && s.t > end).sort((a, b) => a.t - b.t);
    const failed = samples.filter((s) => !s.ok);
    perProbe[name] = { samples: samples.length, failed: failed.length };
    if (samples.length === 0) problems.push(`probe '${name}' has no sample after the runbook's last step`);
    else if (failed.length > 0) problems.push(`probe '${name}' failed ${failed.length} of ${plural(samples.length, 'sample')} after the runbook's last step (first: ${describeSample(failed[0]!, tFault)})`);
  }
  const acksAfter = journal.canary.acks.filter((a) => a.tAck > end).length;
  if (canaryViaApi && acksAfter === 0) problems.push(`the API canary had no write acknowledged after the runbook's last step (${formatTime(end, tFault)})`);
  const details = { probes: perProbe, ...(canaryViaApi ? { canaryAcksAfterRecovery: acksAfter } : {}), tRecoveryEnd: end };
  if (problems.length > 0) {
    return {
      verdict: { check: 'blast-radius', status: 'failed', message: `legitimate users were locked out: ${problems.join('; ')}`, details },
      measurements: {},
    };
  }
  const seen = [
    ...probes.map((name) => `'${name}' ${perProbe[name]!.samples}/${perProbe[name]!.samples}`),
    ...(canaryViaApi ? [`${plural(acksAfter, 'canary write')} acknowledged`] : []),
  ];
  return {
    verdict: { check: 'blast-radius', status: 'passed', message: `legitimate traffic kept working after the runbook's last step: ${seen.join(', ')}`, details },
    measurements: {},
  };
}
