/**
 * Journals for reporter tests: a realistic passed run of the database-corruption drill, a failed
 * one, and one that errored while provisioning. Plus a run dir on disk as the engine leaves it.
 */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ActivityRecord, CanaryAck, Journal, ProbeSample, Stamp } from '../../src/engine/journal-types.js';
import type { Scenario } from '../../src/scenario/schema.js';
import { renderIncidentReport } from '../../src/report/incident-report.js';
import { Redactor } from '../../src/report/redactor.js';
import { renderTimelineSvg, TIMELINE_FILE } from '../../src/report/timeline-svg.js';

/** Planted in the scenario definition: must never appear in any rendered output. */
export const SECRET_PASSWORD = 's3cr3t-Pa55w0rd';
export const SECRET_URL = `postgres://drill:${SECRET_PASSWORD}@db.internal.example:5432/truststream`;

const BASE = Date.parse('2025-05-01T10:00:00.000Z');
export const T_FAULT = 8_000;

export function stamp(t: number): Stamp {
  return { t, wall: new Date(BASE + t).toISOString() };
}

export function scenario(): Scenario {
  return {
    name: 'db-page-corruption-pitr',
    title: 'Heap page corruption on transfers, recovered by point-in-time restore',
    runbook: 'Disaster Recovery Scenarios > Scenario 2: Database Corruption',
    severity: 'P1',
    tags: ['database', 'pitr'],
    targets: {
      postgres: {
        provider: 'external',
        url: SECRET_URL,
        drillTarget: true,
        dataset: { accounts: 200, transfers: 2000 },
        replicas: 0,
        replication: 'async',
      },
    },
    workload: {
      canary: { interval: 100, via: 'sql' },
      probes: [
        { type: 'sql', name: 'transfers-readable', query: 'select count(*) from transfers', interval: 250, timeout: 2000, service: true },
        { type: 'http', name: 'status-page', url: 'http://127.0.0.1:9/health', expectStatus: 200, interval: 500, timeout: 2000, service: false },
      ],
    },
    baseline: { steadyState: 5000 },
    faults: [{ type: 'pg-page-corruption', table: 'transfers', blocks: [0, 3] }],
    detect: { timeout: 60_000 },
    recovery: [
      { step: 'assess-corruption', timeout: 600_000 },
      { step: 'stop-writes', timeout: 600_000 },
      { step: 'pitr-restore', target: 'before-fault', backup: 'newest', verify: true, timeout: 600_000 },
      { step: 'switch-workload', timeout: 600_000 },
    ],
    expect: {
      rto: 900_000,
      rpo: 300_000,
      stability: 5000,
      integrity: ['ledger', 'row-counts', 'checksums', 'foreign-keys', 'amcheck', 'page-checksums'],
      writesLostAfterFault: 'report',
      performance: { p99Ratio: 3, p99Floor: 100, errorRate: 0.01 },
      revocation: 30_000,
      notification: 60_000,
    },
    verify: [],
    timeout: 1_800_000,
  };
}

function step(name: string, title: string, start: number, end: number, output?: Record<string, unknown>): ActivityRecord {
  return { name, title, start: stamp(start), end: stamp(end), status: 'passed', ...(output ? { output } : {}) };
}

/** Service probe every 250ms; failing from just after the fault until `restoredAt`. */
function probes(until: number, restoredAt: number): ProbeSample[] {
  const out: ProbeSample[] = [];
  for (let t = 250; t <= until; t += 250) {
    const failing = t > T_FAULT && t < restoredAt;
    out.push({
      probe: 'transfers-readable',
      service: true,
      t,
      ok: !failing,
      latencyMs: failing ? 2000 : 3,
      ...(failing ? { error: 'ERROR: invalid page in block 0 of relation base/16384/16402' } : {}),
    });
  }
  return out;
}

function acks(): CanaryAck[] {
  return Array.from({ length: 80 }, (_, i) => ({
    id: i + 1,
    epoch: 0,
    checksum: 'a'.repeat(64),
    tAck: (i + 1) * 100,
    clientWall: stamp((i + 1) * 100).wall,
    serverWall: stamp((i + 1) * 100 + 1).wall,
  }));
}

const tables = { accounts: { rows: 200, checksum: 'c1'.repeat(16) }, transfers: { rows: 2000, checksum: 'c2'.repeat(16) } };

/** A database-corruption drill that met every objective. */
export function passedJournal(): Journal {
  return {
    journalVersion: 1,
    runId: '20250501T100000Z-db-page-corruption-pitr',
    harness: { name: 'drill', version: '0.1.0', node: 'v20.11.1', platform: 'linux', arch: 'x64', hostname: 'ci-runner-7' },
    components: { postgres: '15.6' },
    scenario: { file: 'drills/scenarios/db-page-corruption-pitr.yaml', sha256: 'f'.repeat(64), definition: scenario() },
    startedAt: stamp(0).wall,
    endedAt: stamp(50_000).wall,
    status: 'passed',
    phases: [
      step('provision', 'Provision PostgreSQL', 0, 1000),
      step('baseline', 'Steady state', 1000, 7900),
      step('inject', 'Inject pg-page-corruption', 7900, T_FAULT),
    ],
    steps: [
      step('assess-corruption', 'Identify corruption extent', 9000, 10_500, { relations: ['transfers'], blocks: [0, 3] }),
      step('stop-writes', 'Stop write operations', 10_500, 11_000),
      step('pitr-restore', 'Restore from point-in-time backup', 11_000, 38_000, { target: 'before-fault', instance: 'pg-restore-1' }),
      step('switch-workload', 'Point the application at the recovered instance', 38_000, 39_000),
    ],
    events: [],
    probes: probes(48_000, 40_000),
    canary: {
      acks: acks(),
      attempts: 95,
      failures: 15,
      recovered: { readAt: stamp(45_000), instance: 'pg-restore-1', rows: Array.from({ length: 77 }, (_, i) => ({ id: i + 1, epoch: 0, checksumOk: true })) },
    },
    marks: {
      tFault: stamp(T_FAULT),
      tDetected: stamp(8250),
      tRecoveryStart: stamp(9000),
      tRecoveryEnd: stamp(39_000),
      tVerified: stamp(46_000),
    },
    snapshot: { takenAt: stamp(7800), instance: 'pg-primary', label: 'recovery target: before fault', tables },
    integrity: {
      checkedAt: stamp(46_000),
      instance: 'pg-restore-1',
      tables,
      foreignKeys: [{ constraint: 'transfers_account_fk', table: 'transfers', violations: 0 }],
      amcheck: [],
      pageChecksumFailures: 0,
      errors: [],
    },
    measurements: {
      detectionLatencyMs: 250,
      rtoMs: 32_000,
      rtoLowerBoundMs: 31_750,
      rtoUncertaintyMs: 250,
      verifiedRecoveryMs: 38_000,
      rpoMs: 300,
      lostWrites: 3,
      lostRanges: [[78, 80]],
      holes: [],
      lostAfterFault: 0,
      stepDurationsMs: { 'assess-corruption': 1500, 'stop-writes': 500, 'pitr-restore': 27_000, 'switch-workload': 1000 },
    },
    verdicts: [
      { check: 'steady-state', status: 'passed', message: 'steady state held: 32 of 32 service probe samples passed' },
      { check: 'detection', status: 'passed', message: 'detected 250ms after the fault', measured: 250, limit: 60_000 },
      { check: 'rto', status: 'passed', message: 'RTO ≤ 32s (restored between T_fault+31.75s and T_fault+32s) within 15m', measured: 32_000, limit: 900_000 },
      { check: 'rpo', status: 'passed', message: 'RPO 300ms within 5m (3 writes lost: 78–80)', measured: 300, limit: 300_000 },
      { check: 'integrity', status: 'passed', message: 'integrity held: ledger, row-counts, checksums, foreign-keys, amcheck, page-checksums' },
      { check: 'recovery-steps', status: 'passed', message: 'all 4 recovery steps passed' },
    ],
  };
}

export const RTO_FAILURE = 'RTO 16m40s exceeded the objective 15m: pitr-restore took 16m20s replaying WAL';
export const INTEGRITY_FAILURE = 'integrity failed: amcheck (1 finding on transfers: block 3 line pointer out of range)';

/** The same drill, but recovery was too slow and corruption survived into the restored copy. */
export function failedJournal(): Journal {
  const j = passedJournal();
  j.status = 'failed';
  j.measurements.rtoMs = 1_000_000;
  j.measurements.rtoLowerBoundMs = 999_000;
  j.measurements.rtoUncertaintyMs = 1_000;
  j.measurements.verifiedRecoveryMs = 1_006_000;
  j.integrity!.amcheck = [{ relation: 'transfers', kind: 'heap', block: 3, message: 'line pointer out of range' }];
  j.verdicts = j.verdicts.map((v) => {
    if (v.check === 'rto') return { ...v, status: 'failed', message: RTO_FAILURE, measured: 1_000_000 };
    if (v.check === 'integrity') return { ...v, status: 'failed', message: INTEGRITY_FAILURE };
    return v;
  });
  return j;
}

/** Provisioning failed: no fault, no measurements, no verdicts. The error quotes the secret URL. */
export function earlyErrorJournal(): Journal {
  const j = passedJournal();
  return {
    ...j,
    runId: '20250501T110000Z-db-page-corruption-pitr',
    endedAt: stamp(3000).wall,
    status: 'environment-error',
    error: { code: 'PG_UNREACHABLE', message: `could not connect to ${SECRET_URL}: ECONNREFUSED; start the database or fix targets.postgres.url` },
    phases: [{ name: 'provision', title: 'Provision PostgreSQL', start: stamp(0), end: stamp(3000), status: 'error', error: { code: 'PG_UNREACHABLE', message: 'ECONNREFUSED' } }],
    steps: [],
    probes: [],
    canary: { acks: [], attempts: 0, failures: 0 },
    marks: {},
    snapshot: undefined,
    integrity: undefined,
    measurements: {},
    verdicts: [],
  };
}

/** A minimal Allure result the Allure 3 reader accepts. */
export function allureResult(uuid: string, status: 'passed' | 'failed' = 'passed'): Record<string, unknown> {
  return {
    uuid,
    historyId: `h-${uuid}`,
    name: 'db-page-corruption-pitr',
    fullName: 'drills/db-page-corruption-pitr.test.ts#db-page-corruption-pitr',
    status,
    stage: 'finished',
    start: BASE,
    stop: BASE + 50_000,
    labels: [{ name: 'suite', value: 'drills' }],
    steps: [],
    attachments: [],
    parameters: [],
  };
}

export async function tempDir(prefix = 'drill-report-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** A run dir as the engine leaves it: journal.json, incident-report.md, timeline.svg, allure-results/. */
export async function makeRunDir(journal: Journal = passedJournal()): Promise<string> {
  const root = await tempDir();
  const runDir = join(root, journal.runId);
  await mkdir(join(runDir, 'allure-results', 'attachments'), { recursive: true });
  // Through a Redactor, as writeRunArtifacts writes it.
  await writeFile(join(runDir, 'journal.json'), `${new Redactor().json(journal, 2)}\n`);
  await writeFile(join(runDir, 'incident-report.md'), renderIncidentReport(journal));
  await writeFile(join(runDir, TIMELINE_FILE), renderTimelineSvg(journal));
  await writeFile(join(runDir, 'allure-results', '0001-result.json'), JSON.stringify(allureResult('0001')));
  await writeFile(join(runDir, 'allure-results', 'attachments', 'log.txt'), 'probe log\n');
  // What the CLI and the drill process write beside the journal.
  await writeFile(join(runDir, 'runner.log'), ' RUN  drills/drill.test.ts\n');
  await writeFile(join(runDir, 'progress.jsonl'), '{"kind":"phase","name":"provision","status":"started"}\n');
  await writeFile(join(runDir, 'resources.jsonl'), '{"kind":"temp-dir","path":"/tmp/drill-x"}\n');
  return runDir;
}
