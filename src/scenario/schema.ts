import { z } from 'zod';
import { DURATION_PATTERN, parseDuration } from './duration.js';

/**
 * The scenario file format. This is the single source of truth: TypeScript types are inferred
 * from it and schema/scenario.schema.json is generated from it (`npm run schema`).
 * Objects are strict so a misspelt key is an error, never silently ignored.
 */

/** A duration written as text (`15m`), parsed to milliseconds. */
export const duration = z
  .string()
  .regex(new RegExp(DURATION_PATTERN), 'a duration like 500ms, 30s, 15m or 1h')
  .transform((text) => parseDuration(text)!)
  .meta({ description: 'Duration: a number and a unit (ms, s, m, h), e.g. 500ms, 30s, 15m, 1m30s' });

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
  })
  .meta({ description: 'The PostgreSQL the drill runs against' });

const targets = z
  .strictObject({ postgres: postgresTarget.optional() })
  .refine((t) => Object.values(t).some((v) => v !== undefined), { message: 'name at least one target (postgres)' });

const sqlProbe = z.strictObject({
  type: z.literal('sql'),
  name: z.string(),
  query: z.string().meta({ description: 'Runs against the current primary; an error is a failure' }),
  interval: duration.default(250),
  timeout: duration.default(2000),
  service: z.boolean().default(true).meta({ description: 'Counts for RTO and steady state' }),
});

const httpProbe = z.strictObject({
  type: z.literal('http'),
  name: z.string(),
  url: z.string().url(),
  expectStatus: z.number().int().default(200),
  interval: duration.default(500),
  timeout: duration.default(2000),
  service: z.boolean().default(true),
});

const probe = z.discriminatedUnion('type', [sqlProbe, httpProbe]);

const workload = z.strictObject({
  canary: z
    .strictObject({
      interval: duration.default(100).meta({ description: 'Time between canary commits' }),
    })
    .prefault({}),
  probes: z.array(probe).min(1),
});

const pgPageCorruption = z
  .strictObject({
    type: z.literal('pg-page-corruption'),
    table: z.string().meta({ description: 'Table of the drill data set whose heap pages get damaged' }),
    blocks: z.array(z.number().int().min(0)).default([0]).meta({ description: 'Block numbers to damage' }),
  })
  .meta({ description: 'Stops the server, flips bytes in heap pages on disk, restarts it' });

export const fault = z.discriminatedUnion('type', [pgPageCorruption]);

const recoveryTarget = z
  .union([
    z.literal('before-fault'),
    z.literal('latest'),
    z.strictObject({ time: z.string() }),
    z.strictObject({ lsn: z.string() }),
    z.strictObject({ xid: z.string() }),
    z.strictObject({ name: z.string() }),
  ])
  .meta({ description: 'Where WAL replay stops: before-fault, latest, or {time|lsn|xid|name}' });

const stepBase = { timeout: duration.default(600_000), title: z.string().optional() };

export const recoveryStep = z.discriminatedUnion('step', [
  z.strictObject({ step: z.literal('assess-corruption'), ...stepBase }).meta({
    description: 'Runbook "Identify corruption extent": amcheck on the primary, relations and blocks to the journal',
  }),
  z.strictObject({ step: z.literal('stop-writes'), ...stepBase }).meta({
    description: 'Runbook "Stop write operations": pause the writer, make the primary read-only',
  }),
  z.strictObject({ step: z.literal('pitr-restore'), target: recoveryTarget, ...stepBase }).meta({
    description: 'Runbook "Restore from point-in-time backup" into a new instance',
  }),
  z.strictObject({
    step: z.literal('restore-base-backup'),
    confirmDataLoss: z.boolean().default(false).meta({ description: 'The runbook\'s --confirm-data-loss' }),
    ...stepBase,
  }).meta({ description: 'Runbook "Restore from backup": the newest base backup alone, no WAL replay' }),
  z.strictObject({ step: z.literal('switch-workload'), ...stepBase }).meta({
    description: 'Point the application (writer and probes) at the recovered instance',
  }),
]);

const integrityCheck = z.enum(['ledger', 'row-counts', 'checksums', 'foreign-keys', 'amcheck', 'page-checksums']);

const expectations = z.strictObject({
  rto: duration.default(900_000).meta({ description: 'Recovery time objective (runbook: 15m)' }),
  rpo: duration.default(300_000).meta({ description: 'Recovery point objective (runbook: 5m)' }),
  stability: duration.default(5000).meta({ description: 'How long every service probe must pass for recovery to count' }),
  integrity: z.array(integrityCheck).default(['ledger', 'row-counts', 'checksums', 'foreign-keys', 'amcheck', 'page-checksums']),
  writesLostAfterFault: z
    .enum(['fail', 'report'])
    .default('fail')
    .meta({ description: 'Writes acknowledged after the fault and then lost: fail (split-brain) or only report (a restore to before the fault loses them by design)' }),
});

export const scenarioSchema = z
  .strictObject({
    $schema: z.string().optional(),
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and dashes'),
    title: z.string(),
    description: z.string().optional(),
    runbook: z.string().meta({ description: 'The runbook section this drill follows' }),
    severity,
    tags: z.array(z.string()).default([]),
    targets,
    workload,
    baseline: z
      .strictObject({
        steadyState: duration.default(5000).meta({ description: 'Steady state with writes before the fault' }),
        backupAfter: duration
          .optional()
          .meta({ description: 'Take the base backup this long into the steady state (default: at its start)' }),
      })
      .prefault({}),
    faults: z.array(fault).min(1),
    detect: z
      .strictObject({ timeout: duration.default(60_000).meta({ description: 'Wait this long for a failing service probe' }) })
      .prefault({}),
    recovery: z.array(recoveryStep).min(1),
    expect: expectations.prefault({}),
    timeout: duration.default(1_800_000).meta({ description: 'The whole drill is aborted (environment failure) after this' }),
  })
  .meta({ title: 'drill scenario', description: 'A chaos drill: fault, runbook recovery and what must hold afterwards' });

export type Scenario = z.output<typeof scenarioSchema>;
export type ScenarioInput = z.input<typeof scenarioSchema>;
export type Fault = z.output<typeof fault>;
export type RecoveryStep = z.output<typeof recoveryStep>;
export type RecoveryTarget = z.output<typeof recoveryTarget>;
export type Probe = z.output<typeof probe>;
export type IntegrityCheck = z.output<typeof integrityCheck>;
export type Severity = z.output<typeof severity>;
