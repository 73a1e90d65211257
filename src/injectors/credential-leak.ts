import { createHash } from 'node:crypto';
import createDebug from 'debug';
import { createToken, revokeToken } from '../../sut/truststream/src/admin/index.js';
import type { DrillContext, FaultHandle } from '../engine/drill-context.js';
import { EnvironmentError } from '../engine/errors.js';
import type { Fault } from '../scenario/schema.js';
import { formatDuration } from '../scenario/duration.js';
import { withClient } from '../targets/postgres/with-client.js';
import { Attacker } from '../workload/attacker.js';

const debug = createDebug('drill:inject');

type CredentialLeak = Extract<Fault, { type: 'credential-leak' }>;

/** How the journal names a credential: a prefix of its sha256, enough to tell credentials apart, nothing to use. */
export function credentialFingerprint(value: string): string {
  return `sha256:${createHash('sha256').update(value, 'utf8').digest('hex').slice(0, 16)}`;
}

/** A token name of the run's own, apart from the drill's token (drill-<run id>). */
function leakedTokenName(runId: string): string {
  return `leaked-${runId}`.replace(/[^A-Za-z0-9._:-]/g, '-').slice(0, 63);
}

/**
 * A credential of the service leaks and is abused. kind api-token: a new bearer token in the
 * service's token table, as valid as any other (the service has no per-token grants), registered
 * as a secret of the run before anything else happens with it. The attacker then uses it with its
 * own requests; the fault is in effect from the first request the service allowed (its sending
 * instant: never later than the abuse). The handle stops the attacker and revokes the token if the
 * runbook did not.
 */
export async function injectCredentialLeak(ctx: DrillContext, fault: CredentialLeak): Promise<FaultHandle> {
  const { recorder, clock } = ctx;
  const service = ctx.service;
  const database = () => ctx.router.connection;
  const name = leakedTokenName(ctx.runId);
  const token = await withClient(database(), async (c) => {
    const created = await createToken(c, name);
    recorder.secrets.register(created.token, `the leaked API token ${name}`);
    return created.token;
  });
  const fingerprint = credentialFingerprint(token);
  recorder.leakedCredential({ kind: fault.kind, name, fingerprint, leakedAt: clock.stamp() });
  const { attacker: settings } = fault;
  const attacker = new Attacker({
    endpoints: service,
    token,
    fingerprint,
    path: settings.path,
    intervalMs: settings.interval,
    timeoutMs: settings.timeout,
    maxAttempts: settings.maxAttempts,
    maxDurationMs: settings.maxDuration,
    clock,
    record: (attempt) => recorder.attackAttempt(attempt),
  });
  const dispose = async () => {
    await attacker.stop();
    // Revoked by the runbook or still active: either way not usable after the drill.
    await withClient(database(), (c) => revokeToken(c, name)).catch(() => undefined);
  };
  attacker.start();
  const proof = await attacker.firstAllowed(settings.proveWithin, ctx.signal);
  if (!proof) {
    await dispose();
    ctx.signal.throwIfAborted();
    throw new EnvironmentError(
      'LEAK_NOT_PROVEN',
      `credential-leak: no attacker request with the leaked token ${name} was allowed within ${formatDuration(settings.proveWithin)} (${attacker.sent} sent); ` +
        `check that ${settings.path} is an authenticated route of the service that answers 2xx, and the attempts in the journal`,
    );
  }
  debug('leaked token %s (%s) used by the attacker: HTTP %d', name, fingerprint, proof.status);
  return {
    description: `API token ${name} (${fingerprint}) leaked and used by an attacker: GET ${settings.path} allowed`,
    details: { kind: fault.kind, name, fingerprint, path: settings.path, firstAllowed: { t: proof.t, status: proof.status, endpoint: proof.endpoint } },
    // Sent at this instant and allowed: the abuse happened between sending and the answer.
    inEffectAt: proof.t,
    [Symbol.asyncDispose]: dispose,
  };
}
