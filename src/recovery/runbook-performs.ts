import type { IntegrityCheck, RecoveryStep, VerifyStep } from '../scenario/schema.js';
import type { OutputCondition, Performs } from '../runbook/performs.js';

/** The plain-process service's `kubectl rollout restart`, per mode, when the release stays the same. */
const SERVICE_ROLLOUT_RESTART: readonly Performs[] = [
  {
    command: /kubectl rollout restart deployment\/truststream-api\b/,
    when: (output) => sameRelease(output) && restartedModes(output).includes('api'),
    how: 'the service\'s API processes restarted (each new one answers /health before an old one stops)',
  },
  {
    command: /kubectl rollout restart deployment\/truststream-reader\b/,
    when: (output) => sameRelease(output) && restartedModes(output).includes('reader'),
    how: 'the service\'s read-only processes restarted (each new one answers /health before an old one stops)',
  },
];

/**
 * Which runbook procedures each recovery step kind performs: the table `drill coverage` joins the
 * runbook with. One entry per step kind of the scenario schema, like the registry in index.ts, so a
 * new step kind does not compile until it says what it performs (an empty list: nothing in the
 * runbook, with a comment why). Reviewed against
 * ../shared/runbook/truststream-rollback-dr-procedures.md; test/runbook/performs.test.ts checks
 * every entry still names a procedure there.
 *
 * A step gets credit only inside the runbook sections its scenario follows (`runbook:`) or for the
 * ids it lists (`covers:`): `kubectl rollout restart` is "Restart read-only instances" in Scenario 2
 * and "Restart application pods" under Primary Database Failure, and a drill of one is no drill of
 * the other.
 */
export const STEP_PERFORMS: { readonly [S in RecoveryStep['step']]: readonly Performs[] } = {
  'assess-corruption': [{ command: 'scripts/database/analyze-corruption.sh' }],
  'stop-writes': [
    {
      title: 'Stop write operations',
      how: 'database side: the application\'s writer paused, the database read-only, write sessions ended; postcondition a write is refused (not kubectl scale of the API)',
    },
  ],
  // The way back from stop-writes: the runbook has no such step.
  'resume-writes': [],
  'pitr-restore': [{ command: 'scripts/database/point-in-time-restore.sh' }],
  'restore-base-backup': [
    { command: 'scripts/database/restore-from-backup.sh' },
    { command: 'aws rds restore-db-instance-from-db-snapshot', how: 'a base backup restored into a new PostgreSQL instance' },
    { title: 'List available backups', how: 'the step lists the run\'s base backups and picks one (newest, or the last before the fault)' },
  ],
  'switch-workload': [
    { title: 'Update application connection strings', how: 'the application\'s connection (writer and probes) moved to the new primary; postcondition: it takes a write' },
    { title: 'Update DNS to point to restored instance', how: 'the application\'s connection moved to the restored instance' },
    // With targets.service the step restarts the service's processes against the new primary.
    {
      command: /kubectl rollout restart deployment\/truststream-api\b/,
      when: (output) => restartedModes(output?.service).includes('api'),
      how: 'the service\'s API processes restarted against the new primary (each new one answers /health before an old one stops)',
    },
  ],
  'promote-replica': [{ command: 'aws rds promote-read-replica', how: 'pg_promote on the replica with the most WAL' }],
  // Fencing the failed primary is the drill's addition: the runbook never says what becomes of it.
  'fence-old-primary': [],
  'migration-status': [{ command: 'npm run migrate:status' }],
  'migration-rollback': [{ command: 'npm run migrate:rollback' }],
  'migration-current': [{ command: 'npm run migrate:current' }],
  // The runbook assumes backups exist; taking one is set-up, not a procedure of it.
  'take-base-backup': [],
  // REINDEX is not in the runbook (its only corruption repair is a restore).
  reindex: [],
  'k8s-incident-assessment': [
    { command: /kubectl get pods\b.*grep -v Running/ },
    { command: 'kubectl rollout history' },
    { command: /kubectl get nodes\b.*NotReady/ },
  ],
  'k8s-rollout-undo': [{ command: 'kubectl rollout undo' }],
  'k8s-rollout-status': [
    { command: 'kubectl rollout status' },
    { title: 'Verify rollback', how: 'rollout status: every replica updated to the rolled-back template and available, no old pod left' },
  ],
  'k8s-blue-green-switch': [
    { command: 'kubectl patch service' },
    { title: 'Verify traffic switch', how: 'the Service selector read back, and every ready endpoint a pod of the new colour' },
  ],
  'k8s-rollout-restart': [{ command: 'kubectl rollout restart' }],
  'k8s-configmap-patch': [{ command: 'kubectl patch configmap' }],
  'k8s-secret-patch': [{ command: 'kubectl patch secret' }],
  'k8s-scale': [{ command: 'kubectl scale' }],
  'k8s-auto-rollback': [{ command: 'scripts/emergency/auto-rollback.sh' }],
  'k8s-circuit-breaker': [
    { command: 'scripts/monitoring/circuit-breaker.sh' },
    // The script calls the auto-rollback only when it trips.
    { command: 'scripts/emergency/auto-rollback.sh', when: (output) => output?.tripped === true },
  ],
  // kubectl drain cordons first; the runbook has no cordon of its own.
  'k8s-cordon': [],
  'k8s-drain': [{ command: 'kubectl drain' }],
  'k8s-delete-node': [{ command: 'kubectl delete node' }],
  'k8s-replace-node': [{ command: 'aws autoscaling set-desired-capacity', how: 'new nodes join until the desired number is Ready and schedulable' }],
  // The runbook validates before it goes on: the same checks as the verify phase's smoke step.
  smoke: smokePerforms('as a recovery step'),
  // The plain-process service's `kubectl rollout restart`, per mode. A restart that deploys another
  // release is a deployment (the negative controls' broken releases), which no runbook procedure is.
  'service-restart': SERVICE_ROLLOUT_RESTART,
  // The runbook has no NTP procedure; the restart after the clock is fixed is its rollout restart.
  'clock-sync': SERVICE_ROLLOUT_RESTART,
  // The runbook has no procedure for data a wrong clock stamped.
  'clock-restamp': [],
  'revoke-all-tokens': [
    {
      command: 'scripts/security/revoke-all-tokens.sh',
      how: 'every active token of the service\'s token table revoked in one statement (the next request with any is a 401), new tokens for the legitimate clients when reissue is on',
    },
  ],
  // The evidence kinds it preserved decide which of the runbook's two preservation scripts it did.
  'preserve-forensics': [
    {
      command: 'scripts/security/preserve-audit-logs.sh',
      when: (output) => preserved(output).some((kind) => ['service-logs', 'postgres-logs', 'pod-logs', 'apiserver-audit-log'].includes(kind)),
      how: 'the service\'s (or its pods\') and PostgreSQL\'s logs (connections and disconnections), the apiserver\'s audit events of the namespace where the drill runs it, and the attacker-relevant journal window copied into forensics/, redacted, sha256 in the journal and the signed evidence manifest',
    },
    {
      command: 'scripts/security/create-forensic-snapshots.sh',
      when: (output) => preserved(output).some((kind) => ['database-snapshot', 'database-basebackup'].includes(kind)),
      how: 'pg_dump of the application\'s public schema and/or a pg_basebackup (tar, backup manifest, verified with pg_verifybackup, sealed) of the instance, before any destructive step, hashed into the evidence',
    },
    {
      command: 'scripts/security/capture-memory-dumps.sh',
      when: (output) => preserved(output).includes('memory-dump'),
      how: 'the readable private memory of each API process the drill started (identified by pid and start time), from /proc/<pid>/mem, at most 256 MiB each, sealed (AES-256-GCM, key outside the run directory) and hashed into the evidence',
    },
  ],
  'activate-incident-response': [
    {
      command: 'scripts/security/activate-incident-response.sh',
      how: 'a security incident (id, breach type, severity, the leaked credentials by fingerprint) declared in the journal and the incident report; no notification is sent yet',
    },
  ],
  'enable-emergency-access': [
    {
      command: 'scripts/security/enable-emergency-access.sh',
      how: 'a break-glass RoleBinding for an incident-responder ServiceAccount with an expiring token, verified to work, normal identities\' access checked unchanged, removed at teardown',
    },
  ],
  'isolate-compromised-nodes': [
    {
      command: 'scripts/security/isolate-compromised-nodes.sh',
      how: 'the nodes of the compromised pods cordoned and tainted NoExecute, a deny-all NetworkPolicy (API state only without an enforcing network plugin), the pods evicted',
    },
  ],
  'dns-failover': [
    { command: 'aws route53 change-resource-record-sets', how: 'UPSERT of the service record to the region\'s addresses through the Route 53 API, then GetChange until INSYNC' },
    { command: 'dig truststream.yourdomain.com +short', how: 'the drill\'s DNS server queried until it answers the new addresses' },
    { command: 'scripts/dr/update-dns-for-dr.sh', how: 'the service record UPSERTed to the DR region and its answer verified' },
  ],
  'activate-dr-site': [
    {
      command: 'scripts/dr/activate-dr-site.sh',
      how: 'what answers of the lost region killed (unreachable parts named), the DR replica promoted and made the application database, every DR API process ready; with automaticFailover the DNS answer flipped by the drill\'s health checks awaited',
    },
    {
      command: 'scripts/notifications/send-dr-activation-alert.sh',
      // Only when the scenario had channels and the alert was handed to them (the step's output names them).
      when: (output) => Array.isArray(output?.notified) && output.notified.length > 0,
      how: '"DR site activated: primary region X lost, DR region Y serving" (marked DRILL) to every channel of notifications:, delivery journaled',
    },
  ],
  'verify-dr': [
    { command: 'curl -f https://dr.truststream.yourdomain.com/health', how: '/health 200 on every DR API process, by address' },
    { command: 'scripts/dr/verify-dr-database.sh', how: 'the DR database out of recovery and committing a write' },
    { command: 'scripts/dr/functional-test-suite.sh', how: 'the smoke suite (health, read, transfer journey, worker) against the DR region\'s processes' },
  ],
  // The runbook names no failback procedure (issue 9 lists it as optional, for game days): no credit.
  failback: [],
  notify: [
    {
      command: 'scripts/notifications/send-emergency-alert.sh',
      how: 'the runbook\'s "Initial Alert" template (severity, message, incident id; marked DRILL) to every channel of notifications: (Slack-compatible webhook, webhook, SMTP), delivery journaled and judged by the notification check',
    },
  ],
  // The network's own fix (the proxy's toxics removed): the runbook has no procedure for it.
  'remove-network-fault': [],
  // The network between the regions recovers: no procedure of the runbook either.
  'heal-region-partition': [],
  // Waiting is no procedure of the runbook.
  wait: [],
  // The runbook has no full-disk procedure (nothing frees or grows a volume, nothing restarts the
  // database server itself: its "Primary Database Failure" promotes a replica instead), so these
  // perform none of its procedures and a disk drill gets no coverage credit for them.
  'free-space': [],
  'pg-restart': [],
  // Nor does it mention WAL archiving.
  'fix-archiving': [],
  // Nor resource limits of the database host (no procedure raises a memory or CPU limit).
  'remove-resource-limit': [],
  // A person's work outside drill: drill cannot tell which procedure they ran, so the scenario's
  // `covers:` says (its `procedure:` only chooses the text printed for them).
  manual: [],
};

/**
 * What each step of the verify phase (`verify:`, the runbook's "Recovery Validation") performs.
 * Same rules as STEP_PERFORMS (a failed run answers for the steps it planned, as for recovery steps).
 */
export const VERIFY_STEP_PERFORMS: { readonly [S in VerifyStep['step']]: readonly Performs[] } = {
  smoke: smokePerforms('after the restored instant'),
  load: [
    { title: 'Load test to verify capacity', how: 'workload.load run again after recovery (ab -n/-c, k6 or autocannon against the service), requests, errors and latency recorded' },
    {
      title: 'Response time verification',
      how: 'after-recovery p99 latency and error rate against the baseline run of the same load (expect.performance: p99Ratio, p99Floor, p99, errorRate)',
    },
    // "Database performance check" (performance-benchmark.sh): no step benchmarks the database.
  ],
};

/** The runbook's three smoke tests, which the smoke step's checks carry out through the service as a user would. */
function smokePerforms(when: string): readonly Performs[] {
  return [
    { title: 'Basic functionality test', how: `smoke ${when}: /health of every API endpoint, an account and a seeded transfer read through the service` },
    { title: 'User journey tests', how: `smoke ${when}: a transfer created, read back, both balances moved by its amount` },
    { title: 'Integration tests', how: `smoke ${when}: the worker settled the journey's queue item` },
  ];
}

/** The artifact kinds preserve-forensics wrote at least one file of (its journal output). */
function preserved(output: Record<string, unknown> | undefined): string[] {
  const artifacts = output?.artifacts;
  return Array.isArray(artifacts) ? artifacts.map((a) => (a as { kind?: unknown }).kind).filter((k): k is string => typeof k === 'string') : [];
}

/** The modes a restart (service-restart's output, or switch-workload's `service`) restarted. */
function restartedModes(output: unknown): string[] {
  const restarted = typeof output === 'object' && output !== null ? (output as { restarted?: unknown }).restarted : undefined;
  return Array.isArray(restarted) ? restarted.filter((m): m is string => typeof m === 'string') : [];
}

const sameRelease: OutputCondition = (output) => {
  const version = output?.version as { from?: unknown; to?: unknown } | undefined;
  return version !== undefined && version.from === version.to;
};

const VERIFY_DATA_INTEGRITY: Performs = { command: 'scripts/database/verify-data-integrity.sh' };

/**
 * What the verify phase performs with each integrity check a scenario expects (`expect.integrity`),
 * on the database the application uses after recovery. Same rules as STEP_PERFORMS.
 */
export const VERIFY_PERFORMS: { readonly [C in IntegrityCheck]: readonly Performs[] } = {
  // The canary ledger is the drill's own instrument (the RPO); the runbook has no counterpart.
  ledger: [],
  'row-counts': [VERIFY_DATA_INTEGRITY, { command: 'scripts/database/verify-record-counts.sh', how: 'row counts compared with the snapshot at the recovery target' }],
  checksums: [VERIFY_DATA_INTEGRITY],
  'foreign-keys': [VERIFY_DATA_INTEGRITY, { command: 'scripts/database/verify-referential-integrity.sh', how: 'every foreign key checked for violations' }],
  amcheck: [VERIFY_DATA_INTEGRITY, { command: 'scripts/database/corruption-scan.sh', how: 'amcheck over every heap and B-tree index' }],
  'page-checksums': [VERIFY_DATA_INTEGRITY, { command: 'scripts/database/corruption-scan.sh', how: 'every page read, PostgreSQL\'s checksum failure count' }],
};
