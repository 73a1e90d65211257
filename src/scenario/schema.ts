import { z } from 'zod';
import { CLOCK_TOLERANCE, duration, INTERVAL, SPAN, TOLERANCE, WAIT } from './duration-schema.js';
import { datasetName } from './dataset-refs.js';
import { needs, needsWhen } from './target-needs.js';
import { k8sReadyProbe, kubernetesFaults, kubernetesRecoverySteps, kubernetesTarget } from './kubernetes-schema.js';
import { restoresService } from './restores-service.js';
import { loadSettings, performanceLimits, serviceComponent, serviceRestartStep, serviceTarget, smokeStep, verifyStep } from './service-schema.js';
import { PROCEDURE_ID_PATTERN } from '../runbook/procedure-ids.js';
import { credentialLeakFault, revocationLimit, revokeAllTokensStep } from './breach-schema.js';
import { activateDrSiteStep, dnsFailoverStep, failbackStep, healRegionPartitionStep, regionOutageFault, regionPartitionFault, verifyDrStep, regionRef, regionsTarget } from './regions-schema.js';
import { notificationLimit, notificationsSettings, notificationUpdatesExpected, notifyStep } from './notifications-schema.js';
import { networkFaults, networkTarget, removeNetworkFaultStep, waitStep } from './network-schema.js';
import { dataPassthrough, diskIoErrorsFault } from './disk-io-schema.js';
import { dataVolume, diskFullFault, fixArchivingStep, freeSpaceStep, pgRestartStep, walArchiveStuckFault, walVolume } from './disk-schema.js';
import { cpuStressFault, memoryStressFault, removeResourceLimitStep } from './resource-schema.js';
import { activateIncidentResponseStep, enableEmergencyAccessStep, isolateCompromisedNodesStep, preserveForensicsStep } from './incident-schema.js';
import { manualFields, manualStep } from './manual-schema.js';
import { clockRestampStep, clockSkewFault, clockSyncStep } from './clock-schema.js';

/**
 * The scenario file format. This is the single source of truth: TypeScript types are inferred
 * from it and schema/scenario.schema.json is generated from it (`npm run schema`).
 * Objects are strict so a misspelt key is an error, never silently ignored.
 */

const severity = z
  .enum(['P0', 'P1', 'P2', 'P3'])
  .meta({ description: 'Runbook severity: P0 critical outage/data-loss risk, P1 high, P2 medium, P3 low' });

const postgresTarget = z
  .strictObject({
    provider: z
      .enum(['auto', 'native', 'testcontainers', 'external'])
      .default('auto')
      .meta({ description: 'auto: testcontainers when a Docker engine answers, else native binaries' }),
    version: z.number().int().min(12).optional().meta({ description: 'PostgreSQL major version wanted' }),
    image: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._/:@-]*$/, 'an image reference like postgres:15-alpine or registry.example.com/team/postgres:15')
      // Docker's own limit on a repository name; a reference with a tag or digest fits well within 512.
      .max(512)
      .optional()
      .meta({
        description:
          'testcontainers provider: the PostgreSQL image (default: DRILL_POSTGRES_IMAGE, else the official postgres:<version>-alpine). ' +
          'It must behave like the official image (POSTGRES_* variables, docker-entrypoint.sh, PostgreSQL tools on PATH)',
      }),
    url: z.string().optional().meta({ description: 'external provider: connection URL (may use ${ENV_VAR})' }),
    drillTarget: z
      .boolean()
      .default(false)
      .meta({ description: 'external provider: this database may be damaged by the drill' }),
    dataset: z
      .strictObject({
        accounts: z.number().int().min(1).default(200),
        transfers: z.number().int().min(1).default(2000),
      })
      .prefault({})
      .meta({ description: 'Size of the drill-owned data set (accounts and transfers with foreign keys)' }),
    replicas: z
      .number()
      .int()
      .min(0)
      .max(5)
      .default(0)
      .meta({ description: 'Streaming replicas of the primary (native and testcontainers providers), named replica-1, replica-2, …' }),
    walVolume: walVolume.optional(),
    dataVolume: dataVolume.optional(),
    dataPassthrough: dataPassthrough.optional(),
    replication: z
      .enum(['async', 'sync'])
      .default('async')
      .meta({
        description:
          'sync: a commit is acknowledged only once a replica has flushed it (no acknowledged write is lost on promotion); ' +
          'async: commits do not wait (a lagging replica loses the writes it has not received)',
      }),
  })
  .meta({ description: 'The PostgreSQL the drill runs against' });

const targets = z
  .strictObject({ postgres: postgresTarget.optional(), kubernetes: kubernetesTarget.optional(), service: serviceTarget.optional(), regions: regionsTarget.optional(), network: networkTarget.optional() })
  .refine((t) => Object.values(t).some((v) => v !== undefined), { message: 'name at least one target (postgres, kubernetes, service, regions)' });

const sqlProbe = z.strictObject({
  type: z.literal('sql'),
  name: z.string(),
  query: z.string().meta({ description: 'Runs against the current primary; an error is a failure' }),
  interval: duration(INTERVAL).default(250),
  timeout: duration(WAIT).default(2000),
  service: z.boolean().default(true).meta({ description: 'Counts for RTO and steady state' }),
});

const httpProbe = z.strictObject({
  type: z.literal('http'),
  name: z.string(),
  url: z.string().url().optional().meta({ description: 'A fixed URL to GET (give url or target)' }),
  target: z
    .literal('service')
    .optional()
    .meta({ description: "service: GET `path` on the service's current endpoints, one after the other (round-robin), as a load balancer sends traffic" }),
  path: z
    .string()
    .regex(/^\/[^\s#]*$/, 'a path starting with /, e.g. /health')
    .optional()
    .meta({ description: 'target: service only: the path to GET (default /health, the runbook\'s health check)' }),
  component: serviceComponent.optional().meta({ description: 'target: service only: api (default) or reader endpoints' }),
  expectStatus: z.number().int().default(200),
  maxClockSkew: duration(CLOCK_TOLERANCE)
    .optional()
    .meta({
      description:
        "Also fail when the answer's Date header is further than this from the drill's clock (beyond the header's one-second resolution and the request's round trip): " +
        'what sees a clock-skew fault',
    }),
  interval: duration(INTERVAL).default(500),
  timeout: duration(WAIT).default(2000),
  service: z.boolean().default(true),
});

const errorRateProbe = z
  .strictObject({
    type: z.literal('error-rate'),
    name: z.string(),
    max: z.number().min(0).max(1).default(0.05).meta({ description: 'The highest share of 5xx answers that still passes (0.05 = 5%)' }),
    minRequests: z.number().int().min(1).default(5).meta({ description: 'Fewer requests than this since the last check: too few to judge, passes' }),
    interval: duration(INTERVAL).default(1000),
    // A first check scrapes twice, `interval` apart (error-rate-probe.ts): room for that and every instance's answer.
    timeout: duration(WAIT).default(5000),
    service: z.boolean().default(true),
  })
  .meta({
    description:
      "Runbook \"Monitor error rates\": the service's own /metrics on every instance; fails when more than `max` of the requests answered since the last check were 5xx",
  });

// A url probe needs nothing of `targets`; one with `target: service` needs the service's endpoints.
const probe = z.discriminatedUnion('type', [
  needs(sqlProbe, 'postgres'),
  needsWhen(needs(httpProbe), 'target', 'service', 'service'),
  k8sReadyProbe,
  needs(errorRateProbe, 'service'),
]);

const workload = z.strictObject({
  canary: z
    .strictObject({
      interval: duration(INTERVAL).default(100).meta({ description: 'Time between canary commits; while SQL writes fail, the wait doubles per failed write up to 1 s (never below this)' }),
      via: z
        .enum(['sql', 'api', 'direct'])
        .default('sql')
        .meta({
          description:
            'sql: INSERTs into the drill_canary table (database-only drills), as the application (through targets.network\'s link when there is one); api: POST /api/transfers through the service, ' +
            'an acknowledged write being a 201/200 the client saw (needs targets.service); direct: the same INSERTs straight to the database, around targets.network\'s link ' +
            '(a client on the database\'s side of a partition, e.g. a job next to the primary)',
        }),
    })
    .prefault({}),
  probes: z.array(probe).min(1),
  load: loadSettings.optional(),
});

const pgPageCorruption = z
  .strictObject({
    type: z.literal('pg-page-corruption'),
    table: datasetName('table').meta({ description: 'Table of the drill data set whose heap pages get damaged' }),
    blocks: z.array(z.number().int().min(0)).default([0]).meta({ description: 'Block numbers to damage' }),
  })
  .meta({ description: 'Stops the server, flips bytes in heap pages on disk, restarts it' });

const fixChecksum = z
  .boolean()
  .default(true)
  .meta({ description: 'Give the damaged page a valid checksum, so reads do not fail and only amcheck sees the damage (false: reads fail with "invalid page")' });

const pgLinePointerCorruption = z
  .strictObject({
    type: z.literal('pg-line-pointer-corruption'),
    table: datasetName('table').meta({ description: 'Table of the drill data set whose heap page gets garbage line pointers' }),
    block: z.number().int().min(0).default(0).meta({ description: 'Heap block to damage' }),
    items: z.array(z.number().int().min(1)).min(1).default([1, 2]).meta({ description: 'Line pointers (1-based item numbers) to overwrite' }),
    fixChecksum,
  })
  .meta({
    description:
      'Stops the server and overwrites line pointers of a heap page with redirects to items that do not exist: scans silently skip those rows, amcheck (verify_heapam) names them',
  });

const pgRelationFileDeleted = z
  .strictObject({
    type: z.literal('pg-relation-file-deleted'),
    table: datasetName('table').meta({ description: 'Table of the drill data set whose data file goes missing' }),
  })
  .meta({ description: 'Stops the server, moves the table\'s main data file away, restarts it: every read fails with "could not open file"' });

const pgIndexCorruption = z
  .strictObject({
    type: z.literal('pg-index-corruption'),
    index: datasetName('index').meta({ description: 'B-tree index of the drill data set to damage, e.g. transfers_pkey' }),
    block: z.number().int().min(1).optional().meta({ description: 'Leaf block to damage (default: the first leaf page with two items)' }),
    fixChecksum,
  })
  .meta({
    description:
      'Stops the server and swaps two index tuples of a leaf page (checksum fixed up): queries by sequential scan still work, amcheck bt_index_check reports the broken order',
  });

const pgFatFinger = z
  .strictObject({
    type: z.literal('pg-fat-finger'),
    statement: z.enum(['update', 'delete']).meta({ description: 'UPDATE or DELETE without a WHERE clause' }),
    table: datasetName('table').meta({ description: 'Table of the drill data set it hits (every row)' }),
    set: z.string().optional().meta({ description: 'update only: the SET list, e.g. "balance = 0"' }),
  })
  .meta({
    description:
      'Logical corruption: an UPDATE or DELETE without WHERE commits on the primary; the restore point, xid and time just before it are recorded as before-fault',
  });

const schemaChange = z
  .discriminatedUnion('kind', [
    z.strictObject({
      kind: z.literal('rename-column'),
      table: datasetName('table'),
      column: z.string(),
      to: z.string().meta({ description: 'The new name; code still using the old one fails' }),
    }),
    z.strictObject({ kind: z.literal('add-required-column'), table: datasetName('table'), column: z.string() }).meta({
      description: 'NOT NULL text column, existing rows filled, no default left: inserts that do not name it fail',
    }),
    z.strictObject({ kind: z.literal('drop-column'), table: datasetName('table'), column: z.string() }).meta({
      description: 'Drops the column; its down step re-creates it empty (the data is lost)',
    }),
  ])
  .meta({ description: 'What the broken migration does to the schema' });

const pgBadMigration = z
  .strictObject({ type: z.literal('pg-bad-migration'), change: schemaChange })
  .meta({ description: 'A new release ships a migration (next version, with a down step) that breaks the schema the application uses; applied through the migration tool' });

const pgPrimaryCrash = z
  .strictObject({ type: z.literal('pg-primary-crash') })
  .meta({ description: 'The primary dies: SIGKILL of its postmaster; T_fault once none of its processes is left' });

const pgReplicationLag = z
  .strictObject({
    type: z.literal('pg-replication-lag'),
    replica: z.string().optional().meta({ description: 'Replica to hold back (default: the first)' }),
    holdFor: duration(WAIT).default(5000).meta({ description: 'How long the primary goes on writing without the replica before the next fault' }),
  })
  .meta({
    description:
      'Replication to a replica held back (its WAL receiver stopped) for holdFor before the next fault; a precondition, so it does not set T_fault. Needs replication: async',
  });

// Each variant declares what it needs of `targets` (target-needs.ts; checked by needs-rules.ts).
export const fault = z.discriminatedUnion('type', [
  needs(pgPageCorruption, 'postgres'),
  needs(pgBadMigration, 'postgres'),
  needs(pgPrimaryCrash, 'postgres'),
  needs(pgReplicationLag, 'postgres', 'replica'),
  needs(pgLinePointerCorruption, 'postgres'),
  needs(pgRelationFileDeleted, 'postgres'),
  needs(pgIndexCorruption, 'postgres'),
  needs(pgFatFinger, 'postgres'),
  credentialLeakFault,
  regionOutageFault,
  regionPartitionFault,
  ...networkFaults,
  diskFullFault,
  walArchiveStuckFault,
  clockSkewFault,
  cpuStressFault,
  memoryStressFault,
  diskIoErrorsFault,
  ...kubernetesFaults,
]);

const recoveryTarget = z
  .union([
    z.literal('before-fault'),
    z.literal('latest'),
    z.strictObject({ time: z.string() }),
    z.strictObject({ lsn: z.string() }),
    z.strictObject({ xid: z.string() }),
    z.strictObject({ name: z.string() }),
  ])
  .meta({
    description:
      'Where WAL replay stops: before-fault, latest, or {time|lsn|xid|name}; {time|lsn|xid: before-fault} is the value the first fault recorded just before it',
  });

/** Which base backup a restore starts from. */
const backupChoice = z
  .enum(['newest', 'before-fault'])
  .default('newest')
  .meta({ description: 'newest: the last base backup taken; before-fault: the last one finished before the fault' });

const restoreVerify = z
  .boolean()
  .default(true)
  .meta({ description: 'Verify the backup (pg_verifybackup) and, once restored, every page checksum offline (pg_checksums --check)' });

const stepBase = { timeout: duration(WAIT).default(600_000), title: z.string().optional(), ...manualFields, restoresService };

/**
 * The runbook's "Auto-Rollback Script" (scripts/emergency/auto-rollback.sh), shared by the
 * k8s-auto-rollback step and the rollback a k8s-circuit-breaker triggers.
 */
const autoRollbackSettings = z.strictObject({
  deployments: z
    .array(z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'a Kubernetes name: lower-case letters, digits and dashes'))
    .min(1)
    .default(['truststream-api', 'truststream-worker'])
    .meta({ description: 'Deployments rolled back (kubectl rollout undo) when the health check fails; the script\'s default: API and worker' }),
  healthTimeout: duration(WAIT).default(300_000).meta({ description: 'The script\'s TIMEOUT: how long the service may take to pass its health check before a rollback starts' }),
  pollInterval: duration(INTERVAL).default(5000).meta({ description: 'Time between health checks while waiting (the script\'s `sleep 5`)' }),
  rolloutTimeout: duration(WAIT).default(300_000).meta({ description: 'kubectl rollout status --timeout after the rollback' }),
  verifyTimeout: duration(WAIT)
    .default(30_000)
    .meta({ description: 'How long the service may take to answer healthy once the rollback has rolled out (endpoints follow pod readiness)' }),
});

/** `004`, `4` or `004-transfer-reference`; YAML reads an unquoted 004 as the number 4, which is accepted too. */
const migrationVersion = z
  .union([
    z.string().regex(/^\d+(-[A-Za-z0-9._-]+)?$/, 'a migration version like "004" or a migration name like "004-transfer-reference"'),
    z.number().int().min(1),
  ])
  .transform(String);

// Each variant declares what it needs of `targets` (target-needs.ts; checked by needs-rules.ts).
export const recoveryStep = z.discriminatedUnion('step', [
  needs(z.strictObject({ step: z.literal('assess-corruption'), ...stepBase }).meta({
    description: 'Runbook "Identify corruption extent": amcheck on the primary, relations and blocks to the journal',
  }), 'postgres'),
  needs(z.strictObject({ step: z.literal('stop-writes'), ...stepBase }).meta({
    description: 'Runbook "Stop write operations": pause the writer, make the primary read-only',
  }), 'postgres'),
  needs(z.strictObject({ step: z.literal('resume-writes'), ...stepBase }).meta({
    description: 'Undo stop-writes: lift read-only mode and resume the writer; postcondition: a write is accepted',
  }), 'postgres'),
  needs(z.strictObject({ step: z.literal('pitr-restore'), target: recoveryTarget, backup: backupChoice, verify: restoreVerify, ...stepBase }).meta({
    description: 'Runbook "Restore from point-in-time backup" into a new instance',
  }), 'postgres'),
  needs(z.strictObject({
    step: z.literal('restore-base-backup'),
    confirmDataLoss: z.boolean().default(false).meta({ description: 'The runbook\'s --confirm-data-loss' }),
    backup: backupChoice,
    verify: restoreVerify,
    ...stepBase,
  }).meta({ description: 'Runbook "Restore from backup": a base backup alone, no WAL replay' }), 'postgres'),
  needs(z.strictObject({
    step: z.literal('take-base-backup'),
    verify: z
      .boolean()
      .default(true)
      .meta({ description: 'pg_basebackup verifies every page checksum, then pg_verifybackup checks the backup; false: --no-verify-checksums and no check' }),
    ...stepBase,
  }).meta({ description: 'A new base backup of the instance the application uses' }), 'postgres'),
  needs(z.strictObject({
    step: z.literal('reindex'),
    indexes: z.array(datasetName('index')).min(1).optional().meta({ description: 'B-tree indexes to rebuild (default: those amcheck reports damaged)' }),
    concurrently: z.boolean().default(false).meta({ description: 'REINDEX CONCURRENTLY: writes to the table go on while it rebuilds' }),
    ...stepBase,
  }).meta({ description: 'Rebuild damaged indexes from their tables (REINDEX); postcondition: amcheck finds them sound' }), 'postgres'),
  needs(z.strictObject({ step: z.literal('switch-workload'), ...stepBase }).meta({
    description: 'Point the application (writer and probes) at the recovered instance',
  }), 'postgres'),
  needs(z.strictObject({
    step: z.literal('promote-replica'),
    replica: z.string().optional().meta({ description: 'Replica to promote (default: the one that has received the most WAL)' }),
    region: regionRef.optional().meta({ description: 'With targets.regions: promote the database of this region (dr, primary or a region\'s name) instead of naming a replica' }),
    unreachableFor: duration(WAIT)
      .optional()
      .meta({
        description:
          'An automatic-failover threshold: promote only once the primary has been unreachable from the application (through its link, when there is one) for this long in a row, tried every 500 ms; ' +
          'if it keeps answering until the step\'s timeout nothing is promoted and the step fails (PRIMARY_STILL_REACHABLE)',
      }),
    ...stepBase,
  }).meta({
    description: 'Runbook "Promote read replica to primary": pg_promote, wait until it takes writes; switch-workload (with regions: dns-failover) then moves the application to it',
  }), 'postgres', 'replica'),
  needs(z.strictObject({ step: z.literal('fence-old-primary'), ...stepBase }).meta({
    description: 'The failed primary must never take writes again: stopped, fenced as a standby with no upstream, proven by restarting it and trying a write',
  }), 'postgres'),
  needs(z.strictObject({ step: z.literal('migration-status'), ...stepBase }).meta({
    description: 'Runbook "migrate:status": applied and pending schema migrations to the journal',
  }), 'postgres'),
  needs(z.strictObject({
    step: z.literal('migration-rollback'),
    toVersion: migrationVersion.meta({ description: 'The runbook\'s --to-version: the schema version to end at' }),
    ...stepBase,
  }).meta({
    description: 'Runbook "migrate:rollback --to-version": down steps, newest first, until that version is current; postcondition: it is, and the schema is what it defines',
  }), 'postgres'),
  needs(z.strictObject({
    step: z.literal('migration-current'),
    expectVersion: migrationVersion.optional().meta({ description: 'Fail unless this is the current version' }),
    ...stepBase,
  }).meta({
    description: 'Runbook "migrate:current": the current schema version, checked against what that version defines',
  }), 'postgres'),
  smokeStep,
  serviceRestartStep,
  revokeAllTokensStep,
  preserveForensicsStep,
  activateIncidentResponseStep,
  enableEmergencyAccessStep,
  isolateCompromisedNodesStep,
  dnsFailoverStep,
  activateDrSiteStep,
  verifyDrStep,
  failbackStep,
  healRegionPartitionStep,
  notifyStep,
  removeNetworkFaultStep,
  waitStep,
  freeSpaceStep,
  pgRestartStep,
  clockSyncStep,
  clockRestampStep,
  removeResourceLimitStep,
  fixArchivingStep,
  manualStep,
  ...kubernetesRecoverySteps,
  needs(z.strictObject({ step: z.literal('k8s-auto-rollback'), ...autoRollbackSettings.shape, ...stepBase }).meta({
    description:
      'Runbook "Auto-Rollback Script": wait up to healthTimeout for the service probes to pass; if they do not, kubectl rollout undo of the deployments, ' +
      'rollout status, and health verified again; postcondition: healthy (no rollback needed, or after it), else "Rollback failed, escalating"',
  }), 'kubernetes'),
  needs(z.strictObject({
    step: z.literal('k8s-circuit-breaker'),
    interval: duration(INTERVAL).default(10_000).meta({ description: 'Time between health checks (the script\'s `sleep 10`)' }),
    window: duration(WAIT).default(60_000).meta({ description: 'TIME_WINDOW: the failure count restarts when this much time has passed since the window began' }),
    threshold: z.number().int().min(1).default(5).meta({ description: 'ERROR_THRESHOLD: failed health checks in a row, within one window, that trip the breaker' }),
    watchFor: duration(WAIT)
      .default(120_000)
      .meta({ description: 'How long the breaker watches before it stops untripped (the script watches forever); untripped, the service must be healthy at its last check' }),
    rollback: autoRollbackSettings.prefault({}).meta({ description: 'The auto-rollback the breaker triggers when it trips' }),
    ...stepBase,
  }).meta({
    description: 'Runbook "Circuit Breaker Implementation": health checked every interval; threshold failures in a row within a window trip it and run the auto-rollback',
  }), 'kubernetes'),
]);

const integrityCheck = z.enum(['ledger', 'row-counts', 'checksums', 'foreign-keys', 'amcheck', 'page-checksums']);

const expectations = z.strictObject({
  rto: duration(WAIT).default(900_000).meta({ description: 'Recovery time objective (runbook: 15m)' }),
  rpo: duration(TOLERANCE).default(300_000).meta({ description: 'Recovery point objective (runbook: 5m)' }),
  stability: duration(SPAN).default(5000).meta({ description: 'How long every service probe must pass for recovery to count' }),
  integrity: z.array(integrityCheck).default(['ledger', 'row-counts', 'checksums', 'foreign-keys', 'amcheck', 'page-checksums']),
  writesLostAfterFault: z
    .enum(['fail', 'report'])
    .default('fail')
    .meta({
      description:
        'Writes acknowledged after the fault and then lost: fail (split-brain) or only report (a restore to before the fault, or an asynchronous failover, loses them by design). ' +
        'Lost writes acknowledged after a promote-replica step completed (a second primary\'s) fail the drill either way',
    }),
  performance: performanceLimits.prefault({}),
  revocation: revocationLimit,
  notification: notificationLimit,
  notificationUpdates: notificationUpdatesExpected,
});

/**
 * The run directory is `<16-character UTC stamp>-<name>` plus `-<n>` when that exists already, and
 * a directory name may have 255 bytes (the name is ASCII): 200 leaves room for both.
 */
export const SCENARIO_NAME_MAX = 200;

export const scenarioSchema = z
  .strictObject({
    $schema: z.string().optional(),
    name: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and dashes')
      .max(SCENARIO_NAME_MAX)
      .meta({ description: `Names the run directory reports/<time>-<name>: lower-case letters, digits and dashes, at most ${SCENARIO_NAME_MAX}` }),
    title: z.string(),
    description: z.string().optional(),
    runbook: z.string().meta({
      description:
        'The runbook section(s) this drill follows, as headings with ": " between them (e.g. "Rollback Execution: Option 1: Kubernetes Rolling Rollback"); ' +
        'several separated by ", ". `drill coverage` credits the drill with the procedures there that its steps perform',
    }),
    covers: z
      .array(
        z
          .string()
          .regex(new RegExp(PROCEDURE_ID_PATTERN), 'a procedure id like "disaster-recovery-scenarios/scenario-2-database-corruption/data-recovery#identify-corruption-extent" (`drill coverage --format json` lists them)')
          // Heading slugs joined: far below this; the bound keeps an id echoed in messages short.
          .max(1000),
      )
      .optional()
      .meta({
        description:
          'Runbook procedure ids this drill also exercises, beyond what its steps perform in its `runbook:` section(s). Checked against the runbook by `drill validate --runbook` and `drill run --runbook`; `drill coverage` reports ids its runbook does not have',
      }),
    severity,
    tags: z.array(z.string()).default([]),
    compliance: z
      .array(
        z
          .string()
          .regex(/^[A-Za-z][A-Za-z0-9-]*:[A-Za-z0-9][A-Za-z0-9._()-]*$/, 'a control as FRAMEWORK:CONTROL, e.g. "SOC2:A1.3" or "ISO27001:A.5.30"')
          .max(100),
      )
      .optional()
      .meta({ description: 'Controls this drill evidences (e.g. SOC2:A1.3, ISO27001:A.5.30): `drill evidence-pack` groups the signed runs by them' }),
    targets,
    workload,
    baseline: z
      .strictObject({
        steadyState: duration(WAIT).default(5000).meta({ description: 'Steady state with writes before the fault' }),
        backupAfter: duration(SPAN)
          .optional()
          .meta({ description: 'Take the base backup this long into the steady state (default: at its start)' }),
      })
      .prefault({}),
    faults: z.array(fault).min(1),
    detect: z
      .strictObject({ timeout: duration(WAIT).default(60_000).meta({ description: 'Wait this long for a failing service probe' }) })
      .prefault({}),
    recovery: z.array(recoveryStep).min(1),
    verify: z
      .array(verifyStep)
      .default([])
      .meta({ description: 'Runbook "Recovery Validation", run once every service probe has passed for expect.stability after recovery: smoke, load' }),
    notifications: notificationsSettings.optional(),
    expect: expectations.prefault({}),
    timeout: duration(WAIT).default(1_800_000).meta({ description: 'The whole drill is aborted (environment failure) after this; a game day\'s waits for a person (bounded by manualTimeout) do not count' }),
  })
  .meta({ title: 'drill scenario', description: 'A chaos drill: fault, runbook recovery and what must hold afterwards' });

export type Scenario = z.output<typeof scenarioSchema>;
export type ScenarioInput = z.input<typeof scenarioSchema>;
export type Fault = z.output<typeof fault>;
export type RecoveryStep = z.output<typeof recoveryStep>;
export type RecoveryTarget = z.output<typeof recoveryTarget>;
export type Probe = z.output<typeof probe>;
export type VerifyStep = z.output<typeof verifyStep>;
export type LoadSettings = z.output<typeof loadSettings>;
export type PerformanceLimits = z.output<typeof performanceLimits>;
export type ServiceSpec = z.output<typeof serviceTarget>;
export type { RegionsSpec } from './regions-schema.js';
export type { NetworkSpec } from './network-schema.js';
export type IntegrityCheck = z.output<typeof integrityCheck>;
export type Severity = z.output<typeof severity>;
