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
import { leakServiceAccountTokens } from './leaked-service-account-token.js';

const debug = createDebug('drill:inject');

type CredentialLeak = Extract<Fault, { type: 'credential-leak' }>;

/** How the journal names a credential: a prefix of its sha256, enough to tell credentials apart, nothing to use. */
export function credentialFingerprint(value: string): string {
  return `sha256:${createHash('sha256').update(value, 'utf8').digest('hex').slice(0, 16)}`;
}

const LEAKS: { [K in CredentialLeak['kind']]: (ctx: DrillContext, fault: CredentialLeak) => Promise<Leak | Leak[]> } = {
  'api-token': leakApiToken,
  'postgres-password': leakPostgresPassword,
  'k8s-service-account-token': leakServiceAccountTokens,
};

/**
 * Credentials of the service leak and are abused: the kind's part creates them (each a secret of
 * the run from the moment it exists; a kind may leak several, e.g. a bound and a legacy
 * service-account token), an attacker per credential then uses it with its own requests. The fault
 * is in effect from the first use the system allowed (its sending instant: never later than the
 * abuse); every credential must be proven usable. The handle stops the attackers and removes the
 * credentials if the runbook did not.
 */
export async function injectCredentialLeak(ctx: DrillContext, fault: CredentialLeak): Promise<FaultHandle> {
  const { recorder, clock } = ctx;
  const leaked = await LEAKS[fault.kind](ctx, fault);
  const leaks = Array.isArray(leaked) ? leaked : [leaked];
  const { attacker: settings } = fault;
  const attackers = leaks.map((leak) => {
    const fingerprint = credentialFingerprint(leak.value);
    recorder.leakedCredential({ kind: fault.kind, name: leak.name, fingerprint, ...(leak.credentialId ? { credentialId: leak.credentialId } : {}), ...(leak.boundPod ? { boundPod: leak.boundPod } : {}), leakedAt: clock.stamp() });
    const attacker = new Attacker({
      use: leak.use,
      fingerprint,
      intervalMs: settings.interval,
      maxAttempts: settings.maxAttempts,
      maxDurationMs: settings.maxDuration,
      clock,
      record: (attempt) => recorder.attackAttempt(attempt),
    });
    return { leak, fingerprint, attacker };
  });
  const dispose = async () => {
    await Promise.all(attackers.map((a) => a.attacker.stop()));
    await Promise.all(leaks.map((leak) => leak.remove()));
  };
  for (const { attacker } of attackers) attacker.start();
  const proofs = await Promise.all(attackers.map(async (a) => ({ ...a, proof: await a.attacker.firstAllowed(settings.proveWithin, ctx.signal) })));
  const unproven = proofs.find((p) => !p.proof);
  if (unproven) {
    await dispose();
    ctx.signal.throwIfAborted();
    throw new EnvironmentError(
      'LEAK_NOT_PROVEN',
      `credential-leak: no attacker use of ${unproven.leak.what} (${unproven.leak.use.description}) was allowed within ${formatDuration(settings.proveWithin)} (${unproven.attacker.sent} tried); ` +
        'check that the attacker\'s use can succeed with it (api-token: a path that is an authenticated route of the service answering 2xx), and read the attempts in the journal',
    );
  }
  for (const { leak, fingerprint } of proofs) debug('%s (%s) leaked; the attacker\'s first use was allowed', leak.what, fingerprint);
  const first = proofs.reduce((a, b) => (b.proof!.t < a.proof!.t ? b : a));
  const proven = (p: (typeof proofs)[number]) => ({ t: p.proof!.t, endpoint: p.proof!.endpoint, ...(p.proof!.status ? { status: p.proof!.status } : {}) });
  return {
    description: proofs.map((p) => `${p.leak.what} (${p.fingerprint}) leaked and used by an attacker: ${p.leak.use.description} allowed`).join('; '),
    details:
      proofs.length === 1
        ? { kind: fault.kind, name: first.leak.name, fingerprint: first.fingerprint, use: first.leak.use.description, firstAllowed: proven(first) }
        : { kind: fault.kind, credentials: proofs.map((p) => ({ name: p.leak.name, fingerprint: p.fingerprint, use: p.leak.use.description, firstAllowed: proven(p) })) },
    // Sent at this instant and allowed: the abuse happened between sending and the answer.
    inEffectAt: first.proof!.t,
    [Symbol.asyncDispose]: dispose,
  };
}
