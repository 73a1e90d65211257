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
}

export type RecoveryTargetSpec =
  | { kind: 'name'; name: string }
  | { kind: 'time'; time: string }
  | { kind: 'lsn'; lsn: string }
  | { kind: 'xid'; xid: string }
  | { kind: 'latest' };

export interface PgInstance {
  readonly name: string;
  readonly connection: ConnectionInfo;
  /** Data directory, when the harness can reach it (native only). */
  readonly dataDir?: string;
  isRunning(): Promise<boolean>;
  start(): Promise<void>;
  /** Clean shutdown (checkpoint). */
  stop(): Promise<void>;
  /** SIGKILL the postmaster: a crash. */
  kill(): Promise<void>;
  serverVersion(): Promise<string>;
}

export interface PostgresDeployment {
  readonly provider: 'native' | 'testcontainers' | 'external';
  /** Whether destructive faults are allowed against it. */
  readonly drillTarget: boolean;
  readonly primary: PgInstance;
  readonly archiveDir?: string;
  takeBaseBackup(from: PgInstance): Promise<BaseBackup>;
  verifyBackup(backup: BaseBackup): Promise<{ ok: boolean; output: string }>;
  listBackups(): BaseBackup[];
  /** A new instance from a base backup, replaying archived WAL up to the target (or none: backup alone). */
  restore(backup: BaseBackup, name: string, target: RecoveryTargetSpec | 'backup-only'): Promise<PgInstance>;
  /** Stops and removes everything this deployment created. */
  dispose(): Promise<void>;
}
