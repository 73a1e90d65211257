import type { IoFaultControl } from '../process/drillfs-mount.js';
import type { SizedVolume } from '../process/tmpfs-volume.js';
import type { DatabaseLink } from '../../workload/database-link.js';
import type { LimitCgroup } from '../process/limit-cgroup.js';
import type { DataDirectory } from './data-directory.js';

/** What drills need of a PostgreSQL deployment, whatever provides it (native, container, external). */

export interface ConnectionInfo {
  host: string;
  port: number;
  user: string;
  database: string;
  password?: string;
}

export interface BaseBackup {
  id: string;
  dir: string;
  /** Instance it was taken from. */
  source: string;
  startLsn: string;
  endLsn: string;
  takenAtWall: string;
  /** Monotonic run time when the backup finished. */
  tTaken: number;
  verified?: boolean;
  /** pg_basebackup checked every page checksum while copying (false: taken with --no-verify-checksums). */
  checksumsVerified?: boolean;
}

export interface BaseBackupOptions {
  /** Default true: pg_basebackup fails on a page whose checksum does not match. */
  verifyChecksums?: boolean;
}

export type RecoveryTargetSpec =
  | { kind: 'name'; name: string }
  | { kind: 'time'; time: string }
  | { kind: 'lsn'; lsn: string }
  | { kind: 'xid'; xid: string }
  | { kind: 'latest' };

export interface ReplicaOptions {
  synchronous?: boolean;
  /**
   * Where the replica's WAL receiver connects instead of the primary's own address (native only):
   * the loopback listener of the replication link's proxy, which forwards to the primary.
   */
  upstream?: { host: string; port: number };
}

/**
 * A server's processes on this machine as the kernel sees them (/proc): what a crash must kill and
 * wait for, and whether a postmaster that died is still a zombie.
 */
export interface LocalServerProcesses {
  /** The pid its postmaster.pid names (undefined when there is none), unchecked: after a crash it may be another program's. */
  postmasterPid(): number | undefined;
  /**
   * Its postmaster, checked: postmaster.pid's pid only when that is a PostgreSQL process working in
   * its data directory (src/targets/postgres/data-dir-processes.ts). What may be signalled.
   */
  postmaster(): number | undefined;
  /** Whether the postmaster runs and serves: a crashed one left a zombie does not, though `isRunning()` counts it. */
  serving(): boolean;
  /** Its other processes (backends, workers: PostgreSQL processes whose working directory is its data directory), `except` left out. */
  others(except?: number): number[];
}

/**
 * The cgroups (v1) of the drill's that a server runs in (src/targets/process/limit-cgroup.ts): a
 * resource fault attaches its cgroup, and from then on every start of the server joins it too, as
 * a service's limits hold across restarts, until the limit is lifted (detached).
 */
export interface ServerCgroups {
  readonly attached: readonly LimitCgroup[];
  attach(cgroup: LimitCgroup): void;
  detach(cgroup: LimitCgroup): void;
}

export interface PgInstance {
  readonly name: string;
  readonly connection: ConnectionInfo;
  /**
   * Its data directory, where the harness can reach it: on this machine (native) or through the
   * engine (testcontainers). Absent for a server reached only over SQL (external).
   */
  readonly dataDirectory?: DataDirectory;
  /**
   * Optional capability, only where the server's processes run on this machine under the harness
   * (native): its process tree. Elsewhere (a container, an external server) the instance's own
   * `kill()` and `isRunning()` are all there is.
   */
  readonly localProcesses?: LocalServerProcesses;
  /**
   * Optional capability, only where the drill put the server's WAL (pg_wal) on a size-limited volume
   * of its own (native, targets.postgres.walVolume): what disk-full fills and free-space frees.
   */
  readonly walVolume?: SizedVolume;
  /**
   * Optional capability, only where the server's processes run on this machine and its start can
   * put them in a cgroup (native): what cpu-stress and memory-stress limit.
   */
  readonly resourceLimits?: ServerCgroups;
  /**
   * Optional capability, only where the drill put the server's data directory on a size-limited
   * volume of its own (native, targets.postgres.dataVolume): what disk-full with volume: data fills.
   */
  readonly dataVolume?: SizedVolume;
  /**
   * Optional capability, only where the drill put the server's data directory on drillfs (native,
   * targets.postgres.dataPassthrough): the I/O fault rules disk-io-errors sets.
   */
  readonly ioFaults?: IoFaultControl;
  isRunning(): Promise<boolean>;
  start(): Promise<void>;
  /** Clean shutdown (checkpoint). */
  stop(): Promise<void>;
  /** SIGKILL the postmaster: a crash. */
  kill(): Promise<void>;
  serverVersion(): Promise<string>;
  /** The end of its server log, one line per entry joined by " | ", where the harness can read it. */
  logTail?(lines?: number): string | Promise<string>;
  /** Optional capability: its whole server log as the harness can read it (native: the log file pg_ctl writes). */
  readServerLog?(): Promise<string>;
}

export interface PostgresDeployment {
  readonly provider: 'native' | 'testcontainers' | 'external';
  /** Whether destructive faults are allowed against it. */
  readonly drillTarget: boolean;
  /**
   * Optional capability of servers the drill did not create (external): proves, by reading only,
   * that the server itself is marked as a drill target; InputError NOT_A_DRILL_TARGET otherwise.
   * Provisioning calls it before anything is written to the server.
   */
  confirmDrillTarget?(): Promise<void>;
  readonly primary: PgInstance;
  readonly archiveDir?: string;
  takeBaseBackup(from: PgInstance, options?: BaseBackupOptions): Promise<BaseBackup>;
  verifyBackup(backup: BaseBackup): Promise<{ ok: boolean; output: string }>;
  listBackups(): BaseBackup[];
  /** A new instance from a base backup, replaying archived WAL up to the target (or none: backup alone). */
  restore(backup: BaseBackup, name: string, target: RecoveryTargetSpec | 'backup-only'): Promise<PgInstance>;
  /** Streaming replicas of the primary, in the order they were created (empty when there are none). */
  readonly replicas: PgInstance[];
  /**
   * A new streaming replica of the primary, running and streaming when this returns. `synchronous`:
   * commits on the primary wait until one synchronous replica has flushed them. Providers that
   * cannot run replicas (external) throw an EnvironmentError.
   */
  createReplica(name: string, options?: ReplicaOptions): Promise<PgInstance>;
  /**
   * Optional capability (native): rebuilds `instance`, whose server is down, as a streaming replica
   * of `upstream` (a failback: the lost primary made a replica of the one that took over). Its data
   * directory, already in the ledger, is replaced by a fresh base backup of `upstream` (with a
   * replication slot there); its own address, port and archive are kept; it runs and streams when
   * this returns.
   */
  rebuildAsReplica?(instance: PgInstance, upstream: PgInstance): Promise<{ slot: string; backupStartLsn?: string }>;
  /**
   * Optional capability: the link the replicas stream WAL over, when the scenario degrades it
   * (a network fault with `link: replication`): a proxy set up before the replicas were built.
   */
  replicationLink?: DatabaseLink;
  /** Stops and removes everything this deployment created. */
  dispose(): Promise<void>;
}
