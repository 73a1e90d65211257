import { z } from 'zod';
import { duration, INTERVAL, WAIT } from './duration-schema.js';
import { restoresService } from './restores-service.js';
import { needs, needsWhen } from './target-needs.js';
import { manualFields } from './manual-schema.js';

/**
 * The leaked-credential parts of the scenario format (runbook "Scenario 3: Security Breach"): the
 * `credential-leak` fault, its attacker, the `revoke-all-tokens` step and the limit on
 * time-to-revoke. Kept apart from schema.ts (which composes them) so this vocabulary reads in one place.
 */

/**
 * What k8s-service-account-token leaks when the scenario does not say. Applied by that kind's
 * injector, not by the schema: a default in the schema would put Kubernetes settings into every
 * kind's parsed fault.
 */
export const SERVICE_ACCOUNT_LEAK_DEFAULTS = { serviceAccount: 'default', tokens: ['bound', 'legacy'] } as const;

const attacker = z
  .strictObject({
    path: z
      .string()
      .regex(/^\/api\/[^\s?#]*$/, 'an /api/ path of the service, e.g. /api/accounts/1')
      .default('/api/accounts/1')
      .meta({ description: 'api-token: what the attacker GETs with the leaked token (an authenticated route of the API). postgres-password logs in and reads accounts instead' }),
    interval: duration(INTERVAL).default(200).meta({ description: 'Time between two of its uses' }),
    timeout: duration(WAIT).default(2000).meta({ description: 'A request (or login) without an answer after this is recorded as an error (neither allowed nor rejected)' }),
    maxAttempts: z.number().int().min(1).max(100_000).default(2000).meta({ description: 'It stops after this many uses' }),
    maxDuration: duration(WAIT).default(600_000).meta({ description: 'It stops this long after its first use' }),
    proveWithin: duration(WAIT)
      .default(30_000)
      .meta({ description: 'The leak must be proven (a use allowed with the leaked credential) within this, or the drill stops (exit 3): a leak that was never usable proves nothing' }),
  })
  .prefault({})
  .meta({
    description:
      'The attacker: its own client (apart from the probes), loopback only, one use at a time, each journaled with its instant and outcome; bounded by count and time, stopped at teardown. ' +
      'api-token: GET path on the service\'s API endpoints in turn; postgres-password: log in and read, then keep that session and read through it until it ends, then log in again',
  });

export const credentialLeakFault = needsWhen(
  needs(
    z
      .strictObject({
        type: z.literal('credential-leak'),
        kind: z.enum(['api-token', 'postgres-password', 'k8s-service-account-token']).meta({
          description:
            'api-token: a bearer token of the service\'s API, created for the drill in its token table (stored hashed, revocable) with the grants every token has (needs targets.service); ' +
            'postgres-password: the password of a login role the drill creates in the drill database with the grants the API needs (read and write the public tables), marked as a credential of the service; ' +
            'k8s-service-account-token: tokens of the service\'s ServiceAccount in the drill\'s namespace (needs targets.kubernetes), used against the kube-apiserver',
        }),
        serviceAccount: z
          .string()
          .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'a ServiceAccount name (lower-case letters, digits, dashes)')
          .optional()
          .meta({ description: 'k8s-service-account-token: the ServiceAccount whose tokens leak (default: default, the account the built-in service\'s pods run as)' }),
        tokens: z
          .array(z.enum(['bound', 'legacy', 'unbound', 'pod']))
          .min(1)
          .refine((list) => new Set(list).size === list.length, 'each token kind once')
          .optional()
          .meta({
            description:
              'k8s-service-account-token: which tokens leak (default: both), each used by an attacker of its own: bound (a TokenRequest bound to a Secret the drill creates; dies with that Secret or the account) ' +
              'and legacy (a kubernetes.io/service-account-token Secret the token controller fills; no expiry, dies with its Secret or the account); ' +
              'unbound (a TokenRequest bound to no object, one hour: no Secret to delete, so only the account\'s recreation, its expiry or revoke-all-tokens rotateSigningKey ends it); ' +
              'pod (a TokenRequest bound to one ready pod of the account that the API Service selects: the token a compromised pod had mounted; dies when that pod is gone, or with the account; ' +
              'isolate-compromised-nodes compromised: leaked-pods isolates that pod\'s node)',
          }),
        attacker,
      })
      .meta({
        description:
          'A credential of the service leaks: the drill creates it (registered as a secret of the run at once: its value is in no artifact; the journal has its sha256 fingerprint), ' +
          'hands it to an attacker that uses it with its own requests. T_fault is the first use the system allowed (the abuse proven, not assumed)',
      }),
    'postgres',
  ),
  'kind',
  'api-token',
  'service',
);
needsWhen(credentialLeakFault, 'kind', 'k8s-service-account-token', 'kubernetes');

export const revokeAllTokensStep = needs(
  z
    .strictObject({
      step: z.literal('revoke-all-tokens'),
      emergency: z.boolean().default(true).meta({ description: 'The runbook\'s --emergency: at once, without waiting for sessions to end' }),
      apiTokens: z
        .boolean()
        .default(true)
        .meta({ description: 'Revoke every token in the service\'s token table (false: leave the API tokens, e.g. when only a Kubernetes credential leaked and the drill cannot reissue the service\'s token there)' }),
      databaseRoles: z
        .boolean()
        .default(true)
        .meta({ description: 'Also ALTER ROLE ... PASSWORD (a new random one, used by no one) for every login role the drill created as a credential of the service' }),
      terminateSessions: z
        .boolean()
        .default(true)
        .meta({
          description:
            'With databaseRoles: end those roles\' sessions (pg_terminate_backend), since a new password does not end a session already open; false leaves them (the negative control breach-password-rotated-sessions-kept)',
        }),
      reissue: z
        .boolean()
        .default(true)
        .meta({
          description:
            'Issue new tokens to the legitimate clients (the drill\'s own: probes, canary, smoke; with targets.service) after the revocation, as the incident response must; ' +
            'false leaves them locked out too (the negative control breach-revocation-breaks-service)',
        }),
      serviceAccountTokens: z
        .enum(['all', 'bound-only'])
        .default('all')
        .meta({
          description:
            'On Kubernetes: all deletes the bound-token Secrets and the legacy token Secrets of the namespace\'s service accounts and recreates those accounts (a new uid: every token issued for the old one is refused); ' +
            'bound-only deletes only the Secrets bound tokens are bound to (the negative control breach-revoke-misses-legacy-token)',
        }),
      rotateSigningKey: z
        .boolean()
        .default(false)
        .meta({
          description:
            'On a control plane the drill started itself (targets.kubernetes.provider: local): also rotate the service-account signing key and restart kube-apiserver (verifying with the new key only) ' +
            'and the controller manager, so every service-account token the apiserver issued before is refused, whatever it is bound to; ' +
            'postcondition: a token issued before the rotation gets 401, a fresh one works. Refused on any other cluster (exit 2 at load, exit 3 at run time)',
        }),
      timeout: duration(WAIT).default(600_000),
      ...manualFields,
      title: z.string().optional(),
      restoresService,
    })
    .meta({
      description:
        'Runbook "Revoke all API tokens" (revoke-all-tokens.sh --emergency): every active token in the service\'s token table revoked in one statement (the next request with any of them is a 401), ' +
        'the passwords of the service\'s drill-created database roles changed and their sessions ended, then, with reissue, a new token for each legitimate client; ' +
        'on Kubernetes first the service-account token Secrets of the drill\'s namespace deleted and their accounts recreated (serviceAccountTokens); ' +
        'postcondition: no token issued before the step is active, and (with terminateSessions) no session of those roles is left',
    }),
  'postgres',
);

export const revocationLimit = duration(WAIT)
  .default(30_000)
  .meta({
    description:
      'Time-to-revoke limit (credential-leak scenarios): from the start of the revoke step (else of the recovery) to the first attacker request refused after which none is allowed again, measured at its answer',
  });
