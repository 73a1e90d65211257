import { z } from 'zod';
import { knownVersions } from '../../sut/truststream/src/releases.js';
import { duration, SPAN, WAIT } from './duration-schema.js';
import { restoresService } from './restores-service.js';
import { needs } from './target-needs.js';
import { manualFields } from './manual-schema.js';

/**
 * The service-under-drill parts of the scenario format: the plain-process target, the runbook's
 * "Recovery Validation" steps (smoke, load), the restart step and the performance limits. Kept
 * apart from schema.ts (which composes them) so this vocabulary reads in one place.
 */

const stepBase = { timeout: duration(WAIT).default(600_000), title: z.string().optional(), ...manualFields };

/** A release of the built-in service (sut/truststream/src/releases.ts). */
export const serviceVersion = z
  .enum(knownVersions() as [string, ...string[]])
  .meta({ description: 'A TrustStram release of the catalogue: 4.3.9 and 4.4.0 are good; 4.4.1 crashes, 4.4.2 is never healthy, 4.4.3 fails writes, 4.4.4 is slow, 4.4.5 stamps transfers with its own clock' });

export const SERVICE_MODES = ['api', 'worker', 'scheduler', 'reader'] as const;
export const serviceMode = z.enum(SERVICE_MODES);

/** Which of the service's front doors a client talks to. */
export const serviceComponent = z
  .enum(['api', 'reader'])
  .meta({ description: 'api: the read/write API processes; reader: the read-only ones' });

/** Processes per mode of the API, worker and scheduler: shared by targets.service and targets.regions (which adds no reader). */
export const serviceProcessCounts = {
  api: z.number().int().min(1).max(5).default(2),
  worker: z.number().int().min(0).max(5).default(1),
  scheduler: z.number().int().min(0).max(2).default(1),
};

/** The release and how long its processes may take to get healthy: shared by targets.service and targets.regions. */
export const serviceLaunch = {
  version: serviceVersion.default('4.4.0'),
  readyTimeout: duration(WAIT).default(60_000).meta({ description: 'How long the processes may take to answer /health 200 at start and after a restart' }),
};

export const serviceTarget = z
  .strictObject({
    ...serviceLaunch,
    replicas: z
      .strictObject({ ...serviceProcessCounts, reader: z.number().int().min(0).max(5).default(1) })
      .prefault({})
      .meta({ description: 'Processes per mode, each on its own loopback port' }),
  })
  .meta({
    description:
      'The built-in TrustStram service as plain processes on loopback, started after PostgreSQL against the drill database ' +
      '(a token and a read-only role created by the drill), stopped at teardown. Needs targets.postgres; not with targets.kubernetes',
  });

const path = z
  .string()
  .regex(/^\/[^\s?#]*(\?[^\s#]*)?$/, 'a path starting with /, e.g. /health or /api/accounts/1')
  .meta({ description: 'The request path on the service' });

const smokeSettings = {
  step: z.literal('smoke'),
  workerWithin: duration(WAIT).default(10_000).meta({ description: 'Integration check: the worker must have processed the journey\'s queue item within this' }),
  requestTimeout: duration(WAIT).default(5000).meta({ description: 'Each HTTP request of a check' }),
  ...stepBase,
};
const smokeDescription =
  'Runbook "Post-Recovery Testing": through the service, as a user: health (every API endpoint) and read (an account, a seeded transfer); ' +
  'journey (create a transfer, read it back, both balances moved by its amount); integration (the worker settled its queue item). Each check timed and journaled';

// Each variant declares what it needs of `targets` (target-needs.ts; checked by needs-rules.ts).

/** As a recovery step (the runbook validates before it goes on); `restoresService` like every recovery step. */
export const smokeStep = needs(z.strictObject({ ...smokeSettings, restoresService }).meta({ description: smokeDescription }), 'service');

/** In `verify:`, after the restored instant: nothing there restores the service. */
const verifySmokeStep = needs(z.strictObject(smokeSettings).meta({ description: smokeDescription }), 'service');

export const loadStep = needs(
  z
    .strictObject({ step: z.literal('load'), ...stepBase })
    .meta({ description: 'Runbook "Performance Validation": the workload.load run again after recovery, judged by expect.performance against the baseline run' }),
  'service',
);

export const serviceRestartStep = needs(
  z
    .strictObject({
      step: z.literal('service-restart'),
      version: serviceVersion.optional().meta({ description: 'Deploy this release with the restart (default: the one running)' }),
      modes: z.array(serviceMode).min(1).optional().meta({ description: 'Which modes restart (default: every mode that runs)' }),
      ...stepBase,
      restoresService,
    })
    .meta({
      description:
        'Restart the plain-process service (the runbook\'s "rollout restart" / deploying a release): new processes start and must answer /health 200, then traffic moves to them and the old ones stop',
    }),
  'service',
);

/** What may run in the verify phase, after the service is back (the runbook's "Recovery Validation"). */
export const verifyStep = z.discriminatedUnion('step', [verifySmokeStep, loadStep]);

export const loadSettings = z
  .strictObject({
    driver: z
      .enum(['autocannon', 'ab', 'k6'])
      .default('autocannon')
      .meta({ description: 'autocannon (npm, in the harness); ab or k6 when their binary is on PATH (otherwise the drill stops, exit 3)' }),
    path: path.default('/health'),
    component: serviceComponent.default('api'),
    requests: z.number().int().min(1).max(1_000_000).default(1000).meta({ description: 'At most this many requests (ab -n)' }),
    connections: z.number().int().min(1).max(256).default(10).meta({ description: 'Concurrent connections (ab -c)' }),
    duration: duration(WAIT).default(30_000).meta({ description: 'At most this long: the run stops at whichever of requests and duration comes first' }),
    requestTimeout: duration(WAIT).default(10_000).meta({ description: 'A request without an answer after this counts as an error' }),
  })
  .meta({
    description:
      'Runbook "Performance Validation" (ab -n 1000 -c 10 .../health): run against the service at the end of the baseline (the reference) and again by a `load` verify step',
  });

export const performanceLimits = z
  .strictObject({
    p99Ratio: z.number().positive().default(3).meta({ description: 'After-recovery p99 latency must stay below this multiple of the baseline p99' }),
    p99Floor: duration(SPAN)
      .default(100)
      .meta({ description: 'An after-recovery p99 below this passes the ratio whatever the baseline (differences of a few milliseconds are noise)' }),
    p99: duration(WAIT).optional().meta({ description: 'Absolute limit: after-recovery p99 must be below this' }),
    errorRate: z.number().min(0).max(1).default(0.01).meta({ description: 'At most this share of the after-recovery requests may fail (connection errors, timeouts, non-2xx)' }),
  })
  .meta({ description: 'Limits of the performance check (judged when the scenario has a load verify step)' });
