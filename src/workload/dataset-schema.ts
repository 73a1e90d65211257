/**
 * What the drill's data set defines once the release's migrations have run (001–004), written out
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
};

export const datasetTables = (): string[] => Object.keys(DATASET_SCHEMA);
export const datasetIndexes = (): string[] => Object.values(DATASET_SCHEMA).flatMap((r) => [...r.indexes]);
