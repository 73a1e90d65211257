import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startClock } from '../../src/engine/clock.js';
import type { DrillContext } from '../../src/engine/drill-context.js';
import { JournalRecorder } from '../../src/engine/journal-recorder.js';
import { ResourceLedger } from '../../src/engine/resource-ledger.js';
import { badMigration, injectBadMigration } from '../../src/injectors/pg-bad-migration.js';
import { loadScenarioFile } from '../../src/scenario/loader.js';
import { NativeDeployment } from '../../src/targets/postgres/native-deployment.js';
import type { ConnectionInfo } from '../../src/targets/postgres/types.js';
import { withClient } from '../../src/targets/postgres/with-client.js';
import { createDataset, tableFacts } from '../../src/workload/dataset.js';
import { DatabaseRouter } from '../../src/workload/database-router.js';
import { DeployedMigrations } from '../../src/workload/migrations/deployed-migrations.js';
import { RELEASE_MIGRATIONS } from '../../src/workload/migrations/index.js';
import { Migrator } from '../../src/workload/migrations/migrator.js';
import type { SchemaMigration } from '../../src/workload/migrations/schema-migration.js';
import { schemaDifferences } from '../../src/workload/migrations/schema-shape.js';

const clock = startClock();
let deployment: NativeDeployment | undefined;
let admin: ConnectionInfo;
const RELEASE = RELEASE_MIGRATIONS.map((m) => m.name);
/** The newest version the release ships, and the one a new migration gets. */
const NEWEST = '007';
const NEXT = '008';

beforeAll(async () => {
  deployment = await NativeDeployment.create({ runId: 'test-migrations', clock, ledger: new ResourceLedger(undefined) }, (d) => (deployment = d));
  admin = deployment.primary.connection;
});
afterAll(async () => {
  await deployment?.dispose();
});

let databases = 0;
/** An empty database of its own for each test. */
async function freshDatabase(): Promise<ConnectionInfo> {
  const name = `mig_${++databases}`;
  await withClient(admin, (c) => c.query(`create database ${name}`));
  return { ...admin, database: name };
}

const columnsOf = (db: ConnectionInfo, table: string) =>
  withClient(db, async (c) =>
    (await c.query<{ name: string }>(
      `select attname as name from pg_attribute where attrelid = $1::regclass and attnum > 0 and not attisdropped order by attnum`,
      [table],
    )).rows.map((r) => r.name),
  );

describe('release migrations through umzug (real PostgreSQL)', () => {
  it('migrates an empty database up to the newest version, in order, each recorded in schema_migrations', async () => {
    const db = await freshDatabase();
    const migrator = new Migrator(db, RELEASE_MIGRATIONS);
    expect((await migrator.status()).pending).toEqual(RELEASE);
    expect(await migrator.up()).toEqual(RELEASE);
    const status = await migrator.status();
    expect(status.current).toEqual({ version: NEWEST, name: '007-service-transfer-ids' });
    expect(status.applied.map((m) => m.version)).toEqual(['001', '002', '003', '004', '005', '006', '007']);
    expect(status.pending).toEqual([]);
    expect(status.unknown).toEqual([]);
    expect(await columnsOf(db, 'transfers')).toEqual(['id', 'from_account', 'to_account', 'amount', 'created_at', 'reference']);
    expect(await migrator.up()).toEqual([]);
  });

  it('status lists what the release ships and has not applied', async () => {
    const db = await freshDatabase();
    const migrator = new Migrator(db, RELEASE_MIGRATIONS);
    expect(await migrator.up('002')).toEqual(['001-accounts', '002-transfers']);
    const status = await migrator.status();
    expect(status.current?.version).toBe('002');
    expect(status.pending).toEqual(RELEASE.slice(2));
  });

  it('004 backfills the reference of transfers that existed before it', async () => {
    const db = await freshDatabase();
    const migrator = new Migrator(db, RELEASE_MIGRATIONS);
    await migrator.up('003');
    await withClient(db, (c) =>
      c.query(`insert into accounts values (1, 'a', 10), (2, 'b', 10);
               insert into transfers values (7, 1, 2, 5, now()), (12, 2, 1, 1, now())`),
    );
    await migrator.up();
    const refs = await withClient(db, async (c) => (await c.query<{ reference: string }>('select reference from transfers order by id')).rows);
    expect(refs.map((r) => r.reference)).toEqual(['TR-00000007', 'TR-00000012']);
  });

  it("005-007 add the service's schema: ids of service transfers start at 1e9; their down steps leave exactly what 004 defines", async () => {
    const db = await freshDatabase();
    const migrator = new Migrator(db, RELEASE_MIGRATIONS);
    await migrator.up();
    const next = await withClient(db, async (c) => (await c.query<{ id: string }>("select nextval('service_transfer_id_seq')::text as id")).rows[0]!.id);
    expect(next).toBe('1000000000');
    expect(await migrator.downTo('004')).toEqual(['007-service-transfer-ids', '006-background-jobs', '005-api-tokens']);
    expect(await schemaDifferences(admin, db, RELEASE_MIGRATIONS, '004')).toEqual([]);
    const left = await withClient(db, async (c) => (await c.query("select relname from pg_class where relname in ('api_tokens', 'transfer_queue', 'service_heartbeats', 'service_transfer_id_seq')")).rows);
    expect(left).toEqual([]);
  });

  it('rolls down to a version, newest first; the schema is then exactly what that version defines', async () => {
    const db = await freshDatabase();
    const migrator = new Migrator(db, RELEASE_MIGRATIONS);
    await migrator.up();
    expect(await schemaDifferences(admin, db, RELEASE_MIGRATIONS, NEWEST)).toEqual([]);
    expect(await schemaDifferences(admin, db, RELEASE_MIGRATIONS, '002')).toContain('table drill_canary exists but is not defined');

    expect(await migrator.downTo('002')).toEqual(RELEASE.slice(2).reverse());
    const status = await migrator.status();
    expect(status.current?.version).toBe('002');
    expect(status.pending).toEqual(RELEASE.slice(2));
    expect(await schemaDifferences(admin, db, RELEASE_MIGRATIONS, '002')).toEqual([]);
    expect(await migrator.downTo('2')).toEqual([]);
    // The scratch databases that define each version are gone again.
    const left = await withClient(admin, async (c) => (await c.query("select datname from pg_database where datname like 'drill_shape_%'")).rows);
    expect(left).toEqual([]);
  });

  it('names the difference when a schema has drifted from its recorded version', async () => {
    const db = await freshDatabase();
    await new Migrator(db, RELEASE_MIGRATIONS).up();
    await withClient(db, (c) => c.query('alter table transfers alter column reference set not null; drop index transfers_from_idx'));
    const differences = await schemaDifferences(admin, db, RELEASE_MIGRATIONS, NEWEST);
    expect(differences).toEqual([
      'transfers column 6 is reference text not null; expected reference text',
      'transfers: missing CREATE INDEX transfers_from_idx ON public.transfers USING btree (from_account)',
    ]);
  });

  it('a migration that fails is rolled back with its record: nothing is half-applied', async () => {
    const db = await freshDatabase();
    const broken: SchemaMigration = {
      name: `${NEXT}-broken`,
      description: 'creates a table, then fails',
      up: async (c) => void (await c.query('create table half_done(x int); select 1/0')),
      down: async () => undefined,
    };
    const migrator = new Migrator(db, [...RELEASE_MIGRATIONS, broken]);
    await expect(migrator.up()).rejects.toMatchObject({ code: 'MIGRATION_FAILED', message: expect.stringMatching(/008-broken.*division by zero.*rolled back/) });
    const status = await migrator.status();
    expect(status.current?.version).toBe(NEWEST);
    expect(status.pending).toEqual([`${NEXT}-broken`]);
    const exists = await withClient(db, async (c) => (await c.query("select to_regclass('half_done') as t")).rows[0].t);
    expect(exists).toBeNull();
  });

  it('refuses rollbacks it cannot do, saying why', async () => {
    const db = await freshDatabase();
    const extra: SchemaMigration = { name: `${NEXT}-extra`, description: 'a table', up: async (c) => void (await c.query('create table extra(x int)')), down: async (c) => void (await c.query('drop table extra')) };
    await new Migrator(db, [...RELEASE_MIGRATIONS, extra]).up();
    const release = new Migrator(db, RELEASE_MIGRATIONS);
    await expect(release.downTo('009')).rejects.toMatchObject({ code: 'MIGRATION_VERSION_UNKNOWN', message: expect.stringMatching(/it ships 001-accounts, .*007-service-transfer-ids/) });
    // Applied by a release this one does not know: its down step is not here.
    expect((await release.status()).unknown).toEqual([`${NEXT}-extra`]);
    await expect(release.downTo('003')).rejects.toMatchObject({ code: 'MIGRATION_NOT_IN_RELEASE', message: expect.stringMatching(/008-extra is applied but not shipped/) });
  });
});

describe('the drill data set', () => {
  it('is created through the migrations, at the newest version, with the same rows every time', async () => {
    const first = await createDataset(admin, { accounts: 20, transfers: 100 });
    expect(first).toEqual({ schemaVersion: NEWEST, migrations: RELEASE });
    const drill = { ...admin, database: 'drill' };
    const facts = await tableFacts(drill);
    expect(facts.transfers!.rows).toBe(100);
    const missing = await withClient(drill, async (c) => (await c.query('select count(*)::int as n from transfers where reference is null')).rows[0].n);
    expect(missing).toBe(0);
    await createDataset(admin, { accounts: 20, transfers: 100 });
    expect(await tableFacts(drill)).toEqual(facts);
  });
});

describe('bad migrations a broken release ships', () => {
  /** The data set at the release's version, with the broken migration shipped as the next one. */
  async function releaseWith(make: (version: string) => SchemaMigration) {
    await createDataset(admin, { accounts: 20, transfers: 100 });
    const db = { ...admin, database: 'drill' };
    const deployed = new DeployedMigrations();
    const migration = make(deployed.nextVersion());
    deployed.ship(migration);
    const migrator = new Migrator(db, deployed.all);
    const before = await tableFacts(db);
    await migrator.up();
    return { db, deployed, migration, migrator, before };
  }
  const canaryInsert = (db: ConnectionInfo) =>
    withClient(db, (c) => c.query("insert into drill_canary (id, epoch, payload, checksum, client_ts) values (1, 1, 'p', 'c', now())"));

  it('rename-column breaks readers of the old name; its down step restores schema and data exactly', async () => {
    const { db, migration, migrator, before } = await releaseWith((v) =>
      badMigration({ kind: 'rename-column', table: 'transfers', column: 'amount', to: 'amount_cents' }, v),
    );
    expect(migration.name).toBe(`${NEXT}-rename-column-transfers-amount`);
    expect((await migrator.status()).current?.version).toBe(NEXT);
    await expect(withClient(db, (c) => c.query('select sum(amount) from transfers'))).rejects.toThrow(/column "amount" does not exist/);
    expect(await migrator.downTo(NEWEST)).toEqual([migration.name]);
    expect(await schemaDifferences(admin, db, RELEASE_MIGRATIONS, NEWEST)).toEqual([]);
    expect(await tableFacts(db)).toEqual(before);
  });

  it('add-required-column makes inserts that do not name it fail; its down step drops it', async () => {
    const { db, migrator } = await releaseWith((v) => badMigration({ kind: 'add-required-column', table: 'drill_canary', column: 'region' }, v));
    await expect(canaryInsert(db)).rejects.toThrow(/null value in column "region"/);
    await migrator.downTo(NEWEST);
    await canaryInsert(db);
    expect(await schemaDifferences(admin, db, RELEASE_MIGRATIONS, NEWEST)).toEqual([]);
  });

  it('drop-column loses data its down step cannot bring back: checksums and the schema show it', async () => {
    const { db, migrator, before } = await releaseWith((v) => badMigration({ kind: 'drop-column', table: 'transfers', column: 'reference' }, v, 'text'));
    await migrator.downTo(NEWEST);
    const after = await tableFacts(db);
    expect(after.transfers!.rows).toBe(before.transfers!.rows);
    expect(after.transfers!.checksum).not.toBe(before.transfers!.checksum);
    expect(await schemaDifferences(admin, db, RELEASE_MIGRATIONS, NEWEST)).toEqual([
      'transfers: missing CREATE UNIQUE INDEX transfers_reference_idx ON public.transfers USING btree (reference)',
    ]);
  });
});

describe('the pg-bad-migration injector', () => {
  it('ships and applies the next version, refuses changes that do not fit the schema, and its handle undoes it', async () => {
    await createDataset(admin, { accounts: 20, transfers: 100 });
    const loaded = await loadScenarioFile('drills/scenarios/pg-bad-migration-rollback.yaml');
    const router = new DatabaseRouter(deployment!.primary);
    const migrations = new DeployedMigrations();
    const ctx = { pg: deployment!, router, clock, recorder: new JournalRecorder(clock, 'test', loaded), restorePoints: new Map(), migrations } as unknown as DrillContext;
    const fault = (change: Parameters<typeof badMigration>[0]) => injectBadMigration(ctx, { type: 'pg-bad-migration', change });

    await expect(fault({ kind: 'rename-column', table: 'transfers', column: 'amuont', to: 'x' })).rejects.toMatchObject({
      code: 'FAULT_COLUMN_UNKNOWN',
      message: expect.stringMatching(/transfers has no column "amuont" \(it has id, from_account, to_account, amount, created_at, reference\)/),
    });
    await expect(fault({ kind: 'add-required-column', table: 'drill_canary', column: 'payload' })).rejects.toMatchObject({ code: 'FAULT_COLUMN_EXISTS' });
    await expect(fault({ kind: 'drop-column', table: 'nope', column: 'x' })).rejects.toMatchObject({ code: 'FAULT_TABLE_UNKNOWN' });
    expect(migrations.all.map((m) => m.name)).toEqual(RELEASE);

    const handle = await fault({ kind: 'rename-column', table: 'transfers', column: 'amount', to: 'amount_cents' });
    expect(handle.details).toMatchObject({ migration: `${NEXT}-rename-column-transfers-amount`, previousVersion: NEWEST });
    expect(ctx.restorePoints.get('before-fault')?.name).toBe('drill-before-fault');
    const migrator = new Migrator(router.connection, migrations.all);
    expect((await migrator.status()).current?.version).toBe(NEXT);

    await handle[Symbol.asyncDispose]();
    expect((await migrator.status()).current?.version).toBe(NEWEST);
    expect(migrations.all.map((m) => m.name)).toEqual(RELEASE);
    expect(await schemaDifferences(admin, router.connection, RELEASE_MIGRATIONS, NEWEST)).toEqual([]);
  });
});

describe('migrate:status in read-only mode', () => {
  it('still reads the status after writes were stopped (default_transaction_read_only)', async () => {
    const db = await freshDatabase();
    await new Migrator(db, RELEASE_MIGRATIONS).up('003');
    await withClient(admin, (c) => c.query(`alter database ${db.database} set default_transaction_read_only = on`));
    const migrator = new Migrator(db, RELEASE_MIGRATIONS);
    expect((await migrator.status()).pending).toEqual(RELEASE.slice(3));
    await expect(migrator.up()).rejects.toMatchObject({ code: 'MIGRATION_FAILED', message: expect.stringMatching(/read-only transaction/) });
  });
});
