/**
 * What the drill's data set defines once the release's migrations have run (001–007), written out
 * so a scenario can be checked without a server: faults and steps may only name these tables,
 * columns and indexes. On every provider, external included, the drill creates them itself in its
 * own `drill` database, so the list is the same everywhere. test/workload/dataset-schema.test.ts
 * compares it with a database the migrations really built, so it cannot fall behind them.
 */
export interface DatasetRelation {
  readonly columns: readonly string[];
  readonly indexes: readonly string[];
}

export const DATASET_SCHEMA: Readonly<Record<string, DatasetRelation>> = {
  accounts: { columns: ['id', 'owner', 'balance'], indexes: ['accounts_pkey'] },
  transfers: {
    columns: ['id', 'from_account', 'to_account', 'amount', 'created_at', 'reference'],
    indexes: ['transfers_pkey', 'transfers_from_idx', 'transfers_to_idx', 'transfers_reference_idx'],
  },
  drill_canary: { columns: ['id', 'epoch', 'payload', 'checksum', 'client_ts', 'server_ts'], indexes: ['drill_canary_pkey'] },
  // The service's own tables (005, 006); 007 adds a sequence, no relation.
  api_tokens: {
    columns: ['id', 'name', 'token_sha256', 'created_at', 'revoked_at'],
    indexes: ['api_tokens_active_name_idx', 'api_tokens_pkey', 'api_tokens_token_sha256_key'],
  },
  transfer_queue: {
    columns: ['id', 'transfer_id', 'enqueued_at', 'processed_at', 'processed_by', 'outcome', 'stale_at'],
    indexes: ['transfer_queue_pending_idx', 'transfer_queue_pkey', 'transfer_queue_transfer_id_key'],
  },
  service_heartbeats: { columns: ['component', 'instance', 'version', 'beat_at'], indexes: ['service_heartbeats_pkey'] },
};

export const datasetTables = (): string[] => Object.keys(DATASET_SCHEMA);
export const datasetIndexes = (): string[] => Object.values(DATASET_SCHEMA).flatMap((r) => [...r.indexes]);
