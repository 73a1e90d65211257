import { createHash } from 'node:crypto';
import createDebug from 'debug';
import type { DrillContext, FaultHandle } from '../engine/drill-context.js';
import { EnvironmentError } from '../engine/errors.js';
import type { Fault } from '../scenario/schema.js';
import { formatDuration } from '../scenario/duration.js';
import { Attacker } from '../workload/attacks/attacker.js';
import type { Leak } from './leak.js';
import { leakApiToken } from './leaked-api-token.js';
import { leakPostgresPassword } from './leaked-postgres-password.js';

const debug = createDebug('drill:inject');

type CredentialLeak = Extract<Fault, { type: 'credential-leak' }>;

/** How the journal names a credential: a prefix of its sha256, enough to tell credentials apart, nothing to use. */
export function credentialFingerprint(value: string): string {
  return `sha256:${createHash('sha256').update(value, 'utf8').digest('hex').slice(0, 16)}`;
}

const LEAKS: { [K in CredentialLeak['kind']]: (ctx: DrillContext, fault: CredentialLeak) => Promise<Leak> } = {
  'api-token': leakApiToken,
  'postgres-password': leakPostgresPassword,
};

/**
 * A credential of the service leaks and is abused: the kind's part creates it (a secret of the run
 * from the moment it exists), the attacker then uses it with its own requests. The fault is in
 * effect from the first use the system allowed (its sending instant: never later than the abuse).
 * The handle stops the attacker and removes the credential if the runbook did not.
 */
export async function injectCredentialLeak(ctx: DrillContext, fault: CredentialLeak): Promise<FaultHandle> {
  const { recorder, clock } = ctx;
  const leak = await LEAKS[fault.kind](ctx, fault);
  const fingerprint = credentialFingerprint(leak.value);
  recorder.leakedCredential({ kind: fault.kind, name: leak.name, fingerprint, leakedAt: clock.stamp() });
  const { attacker: settings } = fault;
  const attacker = new Attacker({
    use: leak.use,
    fingerprint,
    intervalMs: settings.interval,
    maxAttempts: settings.maxAttempts,
    maxDurationMs: settings.maxDuration,
    clock,
    record: (attempt) => recorder.attackAttempt(attempt),
  });
  const dispose = async () => {
    await attacker.stop();
    await leak.remove();
  };
  attacker.start();
  const proof = await attacker.firstAllowed(settings.proveWithin, ctx.signal);
  if (!proof) {
    await dispose();
    ctx.signal.throwIfAborted();
    throw new EnvironmentError(
      'LEAK_NOT_PROVEN',
      `credential-leak: no attacker use of ${leak.what} (${leak.use.description}) was allowed within ${formatDuration(settings.proveWithin)} (${attacker.sent} tried); ` +
        'check that the attacker\'s path is an authenticated route of the service that answers 2xx, and read the attempts in the journal',
    );
  }
  debug('%s (%s) leaked; the attacker\'s first use was allowed', leak.what, fingerprint);
  return {
    description: `${leak.what} (${fingerprint}) leaked and used by an attacker: ${leak.use.description} allowed`,
    details: { kind: fault.kind, name: leak.name, fingerprint, use: leak.use.description, firstAllowed: { t: proof.t, endpoint: proof.endpoint, ...(proof.status ? { status: proof.status } : {}) } },
    // Sent at this instant and allowed: the abuse happened between sending and the answer.
    inEffectAt: proof.t,
    [Symbol.asyncDispose]: dispose,
  };
}
