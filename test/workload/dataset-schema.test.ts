import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startClock } from '../../src/engine/clock.js';
import { ResourceLedger } from '../../src/engine/resource-ledger.js';
import { NativeDeployment } from '../../src/targets/postgres/native-deployment.js';
import type { ConnectionInfo } from '../../src/targets/postgres/types.js';
import { withClient } from '../../src/targets/postgres/with-client.js';
import { DATASET_SCHEMA } from '../../src/workload/dataset-schema.js';
import { RELEASE_MIGRATIONS } from '../../src/workload/migrations/index.js';
import { Migrator } from '../../src/workload/migrations/migrator.js';
import { MIGRATIONS_TABLE } from '../../src/workload/migrations/pg-migration-storage.js';
import { readSchemaShape, type SchemaShape } from '../../src/workload/migrations/schema-shape.js';

// Scenario validation checks table, column and index names against DATASET_SCHEMA without a
// server; here the declaration is held against what the release's migrations really build.
let deployment: NativeDeployment | undefined;
let db: ConnectionInfo;

beforeAll(async () => {
  deployment = await NativeDeployment.create({ runId: 'test-dataset-schema', clock: startClock(), ledger: new ResourceLedger(undefined) }, (d) => (deployment = d));
  await withClient(deployment.primary.connection, (c) => c.query('create database dataset_schema'));
  db = { ...deployment.primary.connection, database: 'dataset_schema' };
  await new Migrator(db, RELEASE_MIGRATIONS).up();
});
afterAll(async () => {
  await deployment?.dispose();
});

/** Names only: columns as the catalog lists them, indexes from their definitions. */
function declaredFrom(shape: SchemaShape): Record<string, { columns: string[]; indexes: string[] }> {
  return Object.fromEntries(
    Object.entries(shape)
      .filter(([table]) => table !== MIGRATIONS_TABLE)
      .map(([table, t]) => [
        table,
        {
          columns: t.columns.map((c) => c.split(' ')[0]!.replace(/^"|"$/g, '')),
          indexes: t.indexes.map((def) => /INDEX (\S+) ON/.exec(def)![1]!).sort(),
        },
      ]),
  );
}

const declared = () =>
  Object.fromEntries(Object.entries(DATASET_SCHEMA).map(([table, r]) => [table, { columns: [...r.columns], indexes: [...r.indexes].sort() }]));

describe('DATASET_SCHEMA', () => {
  it('names exactly the tables, columns and indexes the release migrations create', async () => {
    const shape = await withClient(db, (c) => readSchemaShape(c));
    expect(declaredFrom(shape)).toEqual(declared());
  });

  it('negative control: a table a migration would add is noticed', async () => {
    await withClient(db, (c) => c.query('create table ledger_entries (id bigint primary key)'));
    const shape = await withClient(db, (c) => readSchemaShape(c));
    expect(declaredFrom(shape)).not.toEqual(declared());
    expect(Object.keys(declaredFrom(shape))).toContain('ledger_entries');
  });
});
