/**
 * Revocation (leaked credentials): the attacker's own uses prove when a leaked credential stopped
 * working. Time-to-revoke (judged against expect.revocation) runs from the start of the runbook's
 * first step that can revoke (`revoke-all-tokens`, or `isolate-compromised-nodes`, whose evictions
 * end pod-bound tokens; without one, the start of the recovery) to the answer of the
 * first use refused after which none was allowed again: an upper bound, since the credential may
 * have died earlier. The last allowed use (its sending instant) is the lower bound; the gap between
 * them is reported. Beside it, the exposure: T_fault to that same refusal, how long the attacker
 * was seen using the credential. A credential allowed again after a refusal came back, and the
 * runbook's end must be covered by refused uses: a credential nobody tried after the last step is
 * not shown revoked. Uses that prove neither (no answer, a 5xx) are left out.
 */
import type { AttackAttempt, Journal, LeakedCredential, Measurements } from '../engine/journal-types.js';
import { formatDuration, formatDurationBound } from '../scenario/duration.js';
import { breachWord, plural, type Assessment } from './assessment.js';
import { formatTime } from './probes.js';

interface CredentialRevocation {
  credential: LeakedCredential;
  /** Upper bound: the answer of the first refusal after the last allowed attempt. */
  revokedBy?: AttackAttempt;
  lastAllowed?: AttackAttempt;
  problem?: string;
}

function judgeCredential(credential: LeakedCredential, all: readonly AttackAttempt[], tFault: number, tRecoveryEnd: number | undefined): CredentialRevocation {
  const attempts = all.filter((a) => a.credential === credential.fingerprint).sort((a, b) => a.t - b.t);
  const allowed = attempts.filter((a) => a.outcome === 'allowed');
  const lastAllowed = allowed.at(-1);
  const named = `${credential.kind} ${credential.name} (${credential.fingerprint})`;
  if (!lastAllowed) return { credential, problem: `${named}: no attacker attempt was ever allowed with it: the leak was never proven` };
  const firstRejected = attempts.find((a) => a.outcome === 'rejected');
  if (firstRejected && firstRejected.t < lastAllowed.t) {
    const cameBack = allowed.filter((a) => a.t > firstRejected.t).length;
    return {
      credential,
      lastAllowed,
      problem: `${named} came back: refused at ${formatTime(firstRejected.tEnd, tFault)}, then ${plural(cameBack, 'attacker attempt')} allowed again (the last at ${formatTime(lastAllowed.t, tFault)})`,
    };
  }
  const revokedBy = attempts.find((a) => a.outcome === 'rejected' && a.t > lastAllowed.t);
  if (!revokedBy) {
    const after = tRecoveryEnd === undefined ? [] : attempts.filter((a) => a.t > tRecoveryEnd);
    return {
      credential,
      lastAllowed,
      problem:
        `${named} was never revoked: the attacker's last allowed attempt was sent at ${formatTime(lastAllowed.t, tFault)}` +
        (after.length > 0 ? `, ${plural(after.filter((a) => a.outcome === 'allowed').length, 'attempt')} allowed after the runbook's last step` : ''),
    };
  }
  // Refused after the last step, not merely tried: an attempt without an answer shows nothing.
  const lastRefused = attempts.filter((a) => a.outcome === 'rejected').at(-1)!;
  if (tRecoveryEnd === undefined || lastRefused.t <= tRecoveryEnd) {
    return {
      credential,
      lastAllowed,
      revokedBy,
      problem: `${named}: no attacker attempt after the runbook's last step shows it still refused (the last refused at ${formatTime(lastRefused.t, tFault)}, the attacker stopped at ${formatTime(attempts.at(-1)!.t, tFault)}; raise attacker.maxAttempts or maxDuration)`,
    };
  }
  return { credential, lastAllowed, revokedBy };
}

/**
 * The steps that can end a leaked credential: the runbook's revocation, and the isolation, whose
 * evictions end the pods a pod-bound token dies with. Time-to-revoke runs from the first of them
 * that ran: never from a later step than the one that may have revoked it.
 */
const REVOKING_STEPS: readonly string[] = ['revoke-all-tokens', 'isolate-compromised-nodes'];

/** Where time-to-revoke starts: the first revoking step's start, else the recovery's, else T_fault. */
export function revocationStart(journal: Journal): { t: number; wall: string; from: string } | undefined {
  const step = journal.steps.filter((s) => REVOKING_STEPS.includes(s.name)).sort((a, b) => a.start.t - b.start.t)[0];
  if (step) return { ...step.start, from: `the start of ${step.name}` };
  if (journal.marks.tRecoveryStart) return { ...journal.marks.tRecoveryStart, from: 'the start of the recovery (no revoke step ran)' };
  if (journal.marks.tFault) return { ...journal.marks.tFault, from: 'T_fault (no recovery step ran)' };
  return undefined;
}

/** The last attacker use allowed with any leaked credential (the revocation lies after it). */
export function lastAllowedAttempt(journal: Journal): AttackAttempt | undefined {
  return (journal.attacker?.attempts ?? []).filter((a) => a.outcome === 'allowed').reduce<AttackAttempt | undefined>((a, b) => (a && a.t >= b.t ? a : b), undefined);
}

export function assessRevocation(journal: Journal, limit: number = journal.scenario.definition.expect.revocation): Assessment {
  const tFault = journal.marks.tFault?.t;
  const credentials = journal.attacker?.credentials ?? [];
  const attempts = journal.attacker?.attempts ?? [];
  if (tFault === undefined || credentials.length === 0) {
    return {
      verdict: { check: 'revocation', status: 'failed', message: 'time-to-revoke cannot be measured: no leaked credential was proven in use (T_fault never recorded)', limit },
      measurements: {},
    };
  }
  const judged = credentials.map((c) => judgeCredential(c, attempts, tFault, journal.marks.tRecoveryEnd?.t));
  const counts = {
    attempts: attempts.length,
    allowed: attempts.filter((a) => a.outcome === 'allowed').length,
    rejected: attempts.filter((a) => a.outcome === 'rejected').length,
    errors: attempts.filter((a) => a.outcome === 'error').length,
  };
  const perCredential = judged.map((j) => ({
    credential: j.credential.fingerprint,
    name: j.credential.name,
    ...(j.lastAllowed ? { lastAllowedSentAt: j.lastAllowed.t } : {}),
    ...(j.revokedBy ? { firstRefusedAnsweredAt: j.revokedBy.tEnd, refusedWith: j.revokedBy.status } : {}),
  }));
  // The slowest credential decides; each bound is its own conservative reading.
  const revoked = judged.filter((j) => j.revokedBy && j.lastAllowed);
  const start = revocationStart(journal)!;
  const measurements: Measurements = {};
  if (revoked.length === judged.length) {
    const slowest = revoked.reduce((a, b) => (b.revokedBy!.tEnd > a.revokedBy!.tEnd ? b : a));
    measurements.timeToRevokeMs = Math.max(0, slowest.revokedBy!.tEnd - start.t);
    measurements.timeToRevokeLowerBoundMs = Math.max(0, slowest.lastAllowed!.t - start.t);
    measurements.timeToRevokeUncertaintyMs = measurements.timeToRevokeMs - measurements.timeToRevokeLowerBoundMs;
    measurements.credentialExposureMs = slowest.revokedBy!.tEnd - tFault;
  }
  const problems = judged.flatMap((j) => (j.problem ? [j.problem] : []));
  const details = { tFault, revocationStart: { t: start.t, from: start.from }, ...counts, credentials: perCredential };
  if (problems.length > 0) {
    return {
      verdict: { check: 'revocation', status: 'failed', message: problems.join('; '), limit, details },
      measurements,
    };
  }
  const measured = measurements.timeToRevokeMs!;
  const bounds =
    `time-to-revoke ≤ ${formatDurationBound(measured, 'up')} from ${start.from} (revoked between ${formatDurationBound(measurements.timeToRevokeLowerBoundMs!, 'down')} ` +
    `and ${formatDurationBound(measured, 'up')} after it; the leaked credential worked for at most ${formatDurationBound(measurements.credentialExposureMs!, 'up')} after T_fault)`;
  const passed = measured < limit;
  const after = `${plural(counts.rejected, 'attacker attempt')} refused, none allowed after the first refusal`;
  return {
    verdict: {
      check: 'revocation',
      status: passed ? 'passed' : 'failed',
      message: passed ? `${bounds} within ${formatDuration(limit)}: ${after}` : `${bounds} ${breachWord(measured, limit)} ${formatDuration(limit)}: ${after}`,
      measured,
      limit,
      details,
    },
    measurements,
  };
}
