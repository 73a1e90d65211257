/**
 * The journal: the self-describing record of one drill run, and the only input of the
 * assertions (src/assertions) and the reporters (src/report). Times named `t…` are milliseconds
 * on the run's monotonic clock (0 = drill start); `wall` fields are ISO-8601 wall-clock times.
 */
import type { Scenario } from '../scenario/schema.js';
import type { FileIdentity } from '../report/file-identity.js';

export type RunStatus = 'passed' | 'failed' | 'invalid-input' | 'environment-error' | 'interrupted';
/** `running`: started and never finished (the drill was stopped under it): never a pass. */
export type ActivityStatus = 'running' | 'passed' | 'failed' | 'error' | 'skipped' | 'interrupted';

export interface Stamp {
  t: number;
  wall: string;
}

export interface JournalEvent extends Stamp {
  kind: string;
  message: string;
  data?: Record<string, unknown>;
}

export interface ActivityRecord {
  /** Phase name (provision, baseline, inject, detect, recover, verify, judge, teardown) or step id. */
  name: string;
  title: string;
  start: Stamp;
  end?: Stamp;
  status: ActivityStatus;
  output?: Record<string, unknown>;
  error?: { code: string; message: string };
}

export interface ProbeSample {
  probe: string;
  /** Service probes count for RTO, detection and steady state. */
  service: boolean;
  t: number;
  ok: boolean;
  latencyMs: number;
  error?: string;
}

export interface CanaryAck {
  /** The writer's sequence number (via api: the `<seq>` of reference canary-<epoch>-<seq>). */
  id: number;
  /** Increments each time the writer is pointed at another primary (ids continue from what survived there). */
  epoch: number;
  /** sha256 of the payload as the writer sent it. */
  checksum: string;
  /** When the commit was acknowledged, on the run's monotonic clock. */
  tAck: number;
  /** When the write was sent, as wall time on the run's clock (its wall origin plus monotonic time). */
  clientWall: string;
  /**
   * The commit time the system reports (the SQL canary: now() in the committing transaction; the API
   * canary: the transfer's stored created_at). Never used for RPO; the ledger check requires it
   * within the write's own request on the drill's clock, ± 5 s (src/assertions/ledger-timestamps.ts).
   */
  serverWall: string;
}

export interface RecoveredCanaryRow {
  id: number;
  epoch: number;
  /** Whether the stored payload still hashes to the stored checksum. */
  checksumOk: boolean;
  /** The commit time as stored (drill_canary.server_ts; the API canary's transfers.created_at); absent in older journals. */
  committedAt?: string;
}

export interface RecoveredLedger {
  readAt: Stamp;
  instance: string;
  rows: RecoveredCanaryRow[];
}

export interface TableFacts {
  rows: number;
  /** md5 over the table's rows in primary-key order. */
  checksum: string;
}

export interface DatasetSnapshot {
  takenAt: Stamp;
  instance: string;
  /** What the snapshot stands for, e.g. "recovery target: before fault". */
  label: string;
  tables: Record<string, TableFacts>;
}

export interface AmcheckFinding {
  relation: string;
  kind: 'heap' | 'btree';
  block?: number;
  message: string;
}

export interface IntegrityFacts {
  checkedAt: Stamp;
  instance: string;
  tables: Record<string, TableFacts>;
  foreignKeys: Array<{ constraint: string; table: string; violations: number }>;
  amcheck: AmcheckFinding[];
  /** Checksum failures PostgreSQL counted (pg_stat_database) plus offline pg_checksums findings. */
  pageChecksumFailures: number;
  /** Checks that could not run, with why: an integrity failure, never a silent pass. */
  errors: Array<{ check: string; message: string }>;
}

/**
 * Whether WAL archiving works on the recovered primary (read in the verify phase of a drill whose
 * fault broke archiving): a segment switched out after recovery must reach the archive, and the
 * archiver's failure count must not grow meanwhile.
 */
export interface ArchivingFacts {
  checkedAt: Stamp;
  instance: string;
  /** The segment switched out (pg_switch_wal) after recovery: what must be archived. */
  switchedWal?: string;
  /** pg_stat_archiver when the check began and when it ended. */
  failedCountBefore?: number;
  failedCountAfter?: number;
  lastArchivedWalAfter?: string | null;
  lastFailedWalAfter?: string | null;
  /** Whether last_archived_wal reached switchedWal within waitedMs. */
  archived: boolean;
  waitedMs: number;
  /** Why the facts could not be read (then the check fails). */
  error?: string;
}

/**
 * One reading of the runbook's "Monitor replication lag" / "Monitor database connections",
 * sampled during baseline, fault and recovery (src/workload/db-monitor.ts).
 */
export interface MonitorSample {
  t: number;
  instance: string;
  /** reachable: 1 when the instance answered, 0 when it did not (then no other kind for it). */
  kind: 'reachable' | 'connections' | 'replication-lag-bytes' | 'replication-lag-seconds';
  value: number;
  unit: 'bool' | 'connections' | 'bytes' | 'seconds';
}

/** One named check of a smoke run (runbook "Post-Recovery Testing"). */
export interface SmokeCheck {
  /** health, read: basic functionality; journey: the user journey; integration: the worker processed it. */
  name: 'health' | 'read' | 'journey' | 'integration';
  title: string;
  status: 'passed' | 'failed';
  start: Stamp;
  ms: number;
  /** What the check saw (status codes, ids, balances); never a token. */
  detail?: Record<string, unknown>;
  error?: string;
}

export interface SmokeRun {
  /** Where it ran: as a recovery step or in the verify phase. */
  phase: 'recover' | 'verify';
  start: Stamp;
  end: Stamp;
  checks: SmokeCheck[];
}

/** One load run (runbook "Performance Validation"), as its driver measured it. */
export interface LoadRun {
  phase: 'baseline' | 'verify';
  driver: 'autocannon' | 'ab' | 'k6';
  path: string;
  /** The endpoints the load was spread over (names). */
  endpoints: string[];
  start: Stamp;
  end: Stamp;
  settings: { requests: number; connections: number; durationMs: number };
  /** Which bound ended it: the request count or the duration. */
  stoppedBy: 'requests' | 'duration';
  /** Responses received (any status). */
  responses: number;
  durationMs: number;
  requestsPerSecond: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  /** Connection errors and timeouts (no response). */
  errors: number;
  timeouts: number;
  /** Responses with a status outside 2xx. */
  non2xx: number;
}

/**
 * One interval of the runbook's "Monitoring & Alerting During Recovery" for the service: from the
 * deltas of every instance's /metrics counters and latency histogram since the previous scrape,
 * and the error-level log lines written meanwhile. Requests to /metrics itself are left out.
 */
export interface ServiceMonitorSample {
  t: number;
  intervalMs: number;
  /** Instances whose /metrics answered, and those that did not. */
  instances: number;
  unreachable: number;
  requests: number;
  requestsPerSecond: number;
  /** 5xx answers per second. */
  serverErrorsPerSecond: number;
  /** From the histogram deltas (linear within a bucket); absent when no request finished. */
  p50Ms?: number;
  p99Ms?: number;
  errorLogLines: number;
  errorLogLinesPerSecond: number;
  /** Container restarts since the previous sample (where the service reports them: Kubernetes). */
  restarts?: number;
}

/** A credential the drill leaked (credential-leak): named by its fingerprint, never by its value. */
export interface LeakedCredential {
  /** credential-leak's kind, e.g. api-token. */
  kind: string;
  /** Its name where the system keeps one (the token's name, the database role's). */
  name: string;
  /** `sha256:` and the first 16 hex digits of the sha256 of its value: tells credentials apart, reveals nothing. */
  fingerprint: string;
  /**
   * How the system names the credential in its own logs, where it does (a bound service-account
   * token: `JTI=<its jti claim>`, the kube-apiserver's audit `credential-id`). An identifier, not a secret.
   */
  credentialId?: string;
  /** The pod a pod-bound service-account token is bound to (the compromised workload isolation acts on). */
  boundPod?: string;
  leakedAt: Stamp;
}

/** One attacker use of a leaked credential (an HTTP request, a database login or query). */
export interface AttackAttempt {
  /** The credential's fingerprint. */
  credential: string;
  /** Sent, and answered (or given up), on the run clock. */
  t: number;
  tEnd: number;
  /**
   * allowed: the system accepted the credential (a 2xx, a query answered); rejected: it refused it
   * (401/403, a login refused, the session terminated by the server); error: no answer or another
   * answer (proves neither).
   */
  outcome: 'allowed' | 'rejected' | 'error';
  status?: number;
  endpoint?: string;
  error?: string;
  /** What else the use did with an accepted credential, e.g. "list pods in drill-x: HTTP 403 (authenticated, not authorized)". */
  detail?: string;
}

/** What the attacker of a credential-leak fault did. */
export interface AttackerRecord {
  credentials: LeakedCredential[];
  attempts: AttackAttempt[];
}

/** One attempt to hand a message to a channel (an HTTP POST, an SMTP transaction). */
export interface NotificationAttempt {
  /** Started and answered (or given up), on the run clock. */
  t: number;
  tEnd: number;
  /** accepted: a 2xx, or 250 after DATA; refused: the receiver answered no (non-2xx, an SMTP rejection); error: no answer (refused connection, timeout, TLS). */
  outcome: 'accepted' | 'refused' | 'error';
  /** HTTP status or SMTP reply code, when there was one. */
  status?: number;
  error?: string;
}

/**
 * One message of the runbook's Communication Templates sent to one channel (notifications:),
 * with every attempt. Its URL is not recorded (it may carry a token): `destination` is the
 * scheme, host and port, or the SMTP server.
 */
export interface NotificationRecord {
  template: 'initial-alert' | 'update' | 'rollback-success' | 'rollback-failure' | 'dr-activation' | 'resolution-notice';
  /**
   * What sent it: the automatic alert on detection, a notify step, activate-incident-response, the
   * periodic update while the incident is open, a rollback step's end, activate-dr-site, the
   * automatic notice on verified recovery.
   */
  trigger: 'detection' | 'notify-step' | 'incident-response' | 'update' | 'rollback' | 'dr-activation' | 'resolution';
  channel: string;
  channelType: 'slack' | 'webhook' | 'email';
  destination: string;
  incidentId: string;
  subject: string;
  /** The template's fields as sent (STATUS, IMPACT, ETA, ... by their camelCase names). */
  fields: Record<string, string>;
  /** When it was handed to the channel, on the run clock. */
  t: number;
  wall: string;
  attempts: NotificationAttempt[];
  delivered: boolean;
  /** The end of the accepted attempt: when the channel had it (an upper bound). */
  tDelivered?: number;
  /** tDelivered - t: from handing it over to the channel having it, retries included. */
  latencyMs?: number;
}

export interface NotificationUpdatesRecord {
  everyMs: number;
  /** The first Initial Alert (the incident opened), on the run clock. */
  tStart: number;
  /** The schedule stopped (before the Resolution Notice, or at teardown). */
  tStop?: number;
  sent: number;
}

/** One file preserve-forensics wrote under `forensics/` of the run directory. */
export interface ForensicArtifact {
  /** What it is (artifact kind of the step): service-logs, postgres-logs, database-snapshot, ... */
  kind: string;
  /** Relative to the run directory, e.g. forensics/database-public.sql. */
  path: string;
  bytes: number;
  sha256: string;
  /** How it was collected (tool and source), for the chain of custody. */
  how: string;
  /**
   * Secret by nature (memory dump, physical database copy): written sealed, `bytes`/`sha256` are the
   * sealed file's; the evidence's own size and hash, and where the run's key is, are here.
   */
  sealed?: { cipher: string; keyFile: string; plaintextBytes: number; plaintextSha256: string };
  /** What the collector recorded about it: the process's identity, a truncation, a verification. */
  details?: Record<string, unknown>;
}

/** A requested artifact that could not be collected, with why. */
export interface ForensicGap {
  kind: string;
  reason: string;
}

/** A preserved file hashed again later: `sha256` as found then, absent when the file was gone. */
export interface ForensicRecheck {
  path: string;
  sha256?: string;
  size?: number;
  /**
   * The file's identity when it was hashed (src/report/file-identity.ts), when it held still: the
   * evidence manifest reuses this digest while the file keeps that identity instead of reading
   * hundreds of MB a third time.
   */
  identity?: FileIdentity;
}

/** What preserve-forensics preserved (runbook "Forensic Preservation") and the later re-check of it. */
export interface ForensicsRecord {
  /** The collection started and ended (files written, hashed). */
  start: Stamp;
  end: Stamp;
  /** The window the journal extracts cover (the runbook's --time-range, bounded by the run). */
  window: { from: Stamp; to: Stamp };
  /** Chain of custody: who collected, on which host, with which harness. */
  collector: { user: string; host: string; harness: string };
  /** The artifact kinds that were asked for (listed, or every one the targets allow). */
  requested: string[];
  artifacts: ForensicArtifact[];
  gaps: ForensicGap[];
  /** Every artifact hashed again in the verify phase, once the runbook's steps are done (beside the stability window). */
  recheck?: { at: Stamp; files: ForensicRecheck[] };
}

/** The incident activate-incident-response declared (runbook "Activate security incident response"). */
export interface IncidentRecord {
  id: string;
  breachType: string;
  severity: string;
  declaredAt: Stamp;
  /** The leaked credentials known at that moment, by fingerprint. */
  credentials: string[];
  /** Who was told: the Initial Alert handed to the scenario's channels (delivery in `notifications`), or why nobody was. */
  notification: string;
}

export interface Marks {
  tFault?: Stamp;
  tDetected?: Stamp;
  tRecoveryStart?: Stamp;
  tRecoveryEnd?: Stamp;
  tVerified?: Stamp;
}

export type CheckName = 'steady-state' | 'detection' | 'rto' | 'rpo' | 'integrity' | 'recovery-steps' | 'smoke' | 'performance' | 'revocation' | 'blast-radius' | 'notification' | 'forensics' | 'archiving';

export interface Verdict {
  check: CheckName;
  status: 'passed' | 'failed';
  message: string;
  measured?: number;
  limit?: number;
  details?: Record<string, unknown>;
}

export interface Measurements {
  detectionLatencyMs?: number;
  /** T_fault to the restored instant `s` (DESIGN.md section 4): an upper bound of the true RTO. */
  rtoMs?: number;
  /** T_fault to the failing service sample that precedes `s` (0 when none failed): the true restoration lies after it. */
  rtoLowerBoundMs?: number;
  /** rtoMs - rtoLowerBoundMs: how much earlier the service may really have been back. */
  rtoUncertaintyMs?: number;
  verifiedRecoveryMs?: number;
  rpoMs?: number;
  lostWrites?: number;
  lostRanges?: Array<[number, number]>;
  holes?: Array<[number, number]>;
  lostAfterFault?: number;
  walBytesLost?: number;
  /**
   * A degraded replication link (network fault, link: replication): the most WAL a replica was seen
   * behind the primary (bytes not replayed) and the oldest its newest replayed commit was seen (ms,
   * by the replica's clock), from readings once a second; and how long the replicas took to replay
   * up to the primary's WAL position once the link was healed (remove-network-fault).
   */
  replicationLagMaxBytes?: number;
  replicationLagMaxMs?: number;
  replicationCatchUpMs?: number;
  stepDurationsMs?: Record<string, number>;
  /** Load runs: baseline and after recovery p99 (ms), their ratio, the after-recovery error rate. */
  baselineP99Ms?: number;
  recoveredP99Ms?: number;
  p99Ratio?: number;
  loadErrorRate?: number;
  /**
   * Leaked credentials: from the start of the revoke step (else of the recovery) to the answer of
   * the first attacker use refused after which none was allowed again (an upper bound), to the
   * sending of the last allowed one (the lower bound, 0 when it was before the step), and the gap.
   */
  timeToRevokeMs?: number;
  timeToRevokeLowerBoundMs?: number;
  timeToRevokeUncertaintyMs?: number;
  /** T_fault to that same refusal: how long the attacker was seen using the leaked credential (an upper bound). */
  credentialExposureMs?: number;
  /** Detection (else T_fault) to the "Initial Alert" delivered on the last of the channels (an upper bound). */
  notificationLatencyMs?: number;
}

/**
 * The runbook the drill followed, when `drill run` was given one (`--runbook`, `DRILL_RUNBOOK`):
 * what `drill coverage` compares to tell a procedure whose text changed since it was drilled.
 */
export interface RunbookRecord {
  /** The path as given to `drill run`. */
  file: string;
  /** sha256 of the whole file. */
  sha256: string;
  /** Ids of the sections the scenario's `runbook:` named. */
  sections: string[];
  /** Every procedure in the scenario's scope (those sections and below, and its `covers:`): id → sha256 of its text. */
  procedures: Record<string, string>;
}

export interface Journal {
  journalVersion: 1;
  runId: string;
  harness: { name: string; version: string; node: string; platform: string; arch: string; hostname: string };
  components: Record<string, string>;
  scenario: { file: string; sha256: string; definition: Scenario };
  runbook?: RunbookRecord;
  startedAt: string;
  endedAt?: string;
  status?: RunStatus;
  error?: { code: string; message: string };
  phases: ActivityRecord[];
  steps: ActivityRecord[];
  /** Verify-phase steps (smoke, load): the runbook's "Recovery Validation". */
  verifications?: ActivityRecord[];
  events: JournalEvent[];
  probes: ProbeSample[];
  canary: { acks: CanaryAck[]; attempts: number; failures: number; recovered?: RecoveredLedger };
  marks: Marks;
  snapshot?: DatasetSnapshot;
  /** Database monitoring samples (connections, replication lag); absent when nothing was sampled. */
  monitoring?: MonitorSample[];
  /** Service monitoring samples (response times, error rates, error log lines); absent without a service. */
  serviceMonitoring?: ServiceMonitorSample[];
  smoke?: SmokeRun[];
  load?: LoadRun[];
  /** Leaked credentials and the attacker's uses of them (credential-leak faults). */
  attacker?: AttackerRecord;
  /** Evidence preserved by preserve-forensics, and its re-check. */
  forensics?: ForensicsRecord;
  /** The security incident declared by activate-incident-response. */
  incident?: IncidentRecord;
  integrity?: IntegrityFacts;
  /** WAL archiving after recovery (drills whose fault broke it). */
  archiving?: ArchivingFacts;
  /** Stakeholder notifications (notifications:), each message per channel with its attempts. */
  notifications?: NotificationRecord[];
  /** The periodic updates (notifications.on: update): when they started (the first Initial Alert) and stopped. */
  notificationUpdates?: NotificationUpdatesRecord;
  measurements: Measurements;
  verdicts: Verdict[];
}
