/**
 * The release catalogue: every version of TrustStram this program can be, and how each one
 * behaves. The image tag names the version (VERSION), as it would for a real service; nothing a
 * drill annotates decides whether a release is broken. Broken releases break the way real ones do:
 * a defect at start-up, a schema they were built for that was never migrated, a write path that
 * names a column the database does not have, a hot path that got slow, timestamps taken from the
 * host's clock.
 */
export interface Release {
  readonly version: string;
  readonly summary: string;
  /** The schema version (newest migration, `007`) this release needs; /health is 503 below it. */
  readonly expectedSchemaVersion: string;
  /** Throws this at start-up, before listening: the process exits non-zero (a crash loop under a supervisor). */
  readonly startupDefect?: string;
  /** Writes transfers with a column the schema does not have: every POST /api/transfers is a 500. */
  readonly writesMissingColumn?: string;
  /** Added to every request except /livez and /metrics (p99 over 500 ms by construction). */
  readonly addedLatencyMs?: number;
  /**
   * Stamps a transfer's created_at with the process's own clock (a parameter from `new Date()`)
   * instead of the database's clock_timestamp(): correct while the host clock is, wrong by as much
   * as the host clock is off (a clock-skew fault).
   */
  readonly stampsWithAppClock?: boolean;
}

/** The schema the good releases are built for: the newest migration in src/workload/migrations. */
export const CURRENT_SCHEMA_VERSION = '007';

const release = (r: Release): Release => r;

export const RELEASES: Readonly<Record<string, Release>> = {
  '4.3.9': release({
    version: '4.3.9',
    summary: 'good: the previous release, the rollback target',
    expectedSchemaVersion: CURRENT_SCHEMA_VERSION,
  }),
  '4.4.0': release({
    version: '4.4.0',
    summary: 'good: the current release',
    expectedSchemaVersion: CURRENT_SCHEMA_VERSION,
  }),
  '4.4.1': release({
    version: '4.4.1',
    summary: 'crash loop: a start-up defect makes it exit 1 before it listens',
    expectedSchemaVersion: CURRENT_SCHEMA_VERSION,
    startupDefect: 'settings loader: feature flag "ledger-v2" has no default (TypeError: cannot read properties of undefined)',
  }),
  '4.4.2': release({
    version: '4.4.2',
    summary: 'migration mismatch: built for schema 008, which was never migrated; /health stays 503, /livez 200',
    expectedSchemaVersion: '008',
  }),
  '4.4.3': release({
    version: '4.4.3',
    summary: 'writes fail: inserts a transfers.fee column no migration created; POST /api/transfers answers 500, reads and /health are fine',
    expectedSchemaVersion: CURRENT_SCHEMA_VERSION,
    writesMissingColumn: 'fee',
  }),
  '4.4.4': release({
    version: '4.4.4',
    summary: 'slow: every request but /livez and /metrics takes 700 ms longer (p99 over 500 ms); otherwise correct',
    expectedSchemaVersion: CURRENT_SCHEMA_VERSION,
    addedLatencyMs: 700,
  }),
  '4.4.5': release({
    version: '4.4.5',
    summary: 'app-clock timestamps: created_at of a transfer comes from the process\'s clock, not the database\'s; correct until the host clock is off',
    expectedSchemaVersion: CURRENT_SCHEMA_VERSION,
    stampsWithAppClock: true,
  }),
};

export const CURRENT_RELEASE = '4.4.0';
export const PREVIOUS_RELEASE = '4.3.9';

export function knownVersions(): string[] {
  return Object.keys(RELEASES);
}
