import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import type { ConnectionInfo } from '../../targets/postgres/types.js';
import { withClient } from '../../targets/postgres/with-client.js';
import { Migrator } from './migrator.js';
import { versionNumber, type SchemaMigration } from './schema-migration.js';

/** What a version defines, table by table: columns in order, constraints, indexes. */
export type SchemaShape = Record<string, { columns: string[]; constraints: string[]; indexes: string[] }>;

/** The public schema as the catalog describes it; the same text for the same DDL on any server. */
export async function readSchemaShape(client: pg.ClientBase): Promise<SchemaShape> {
  const shape: SchemaShape = {};
  const table = (name: string) => (shape[name] ??= { columns: [], constraints: [], indexes: [] });
  const columns = await client.query<{ rel: string; col: string }>(
    `select c.relname as rel,
            concat_ws(' ', quote_ident(a.attname), format_type(a.atttypid, a.atttypmod),
                      case when a.attnotnull then 'not null' end,
                      'default ' || pg_get_expr(d.adbin, d.adrelid)) as col
       from pg_class c
       join pg_namespace n on n.oid = c.relnamespace
       join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
       left join pg_attrdef d on d.adrelid = c.oid and d.adnum = a.attnum
      where n.nspname = 'public' and c.relkind in ('r', 'p')
      order by c.relname, a.attnum`,
  );
  for (const r of columns.rows) table(r.rel).columns.push(r.col);
  const constraints = await client.query<{ rel: string; con: string }>(
    `select c.relname as rel, con.conname || ': ' || pg_get_constraintdef(con.oid) as con
       from pg_constraint con
       join pg_class c on c.oid = con.conrelid
       join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'public' order by 1, 2`,
  );
  for (const r of constraints.rows) table(r.rel).constraints.push(r.con);
  const indexes = await client.query<{ rel: string; def: string }>(
    `select tablename as rel, indexdef as def from pg_indexes where schemaname = 'public' order by 1, 2`,
  );
  for (const r of indexes.rows) table(r.rel).indexes.push(r.def);
  return shape;
}

/** Every way `actual` differs from `expected`, one line each; empty when they match. */
export function diffSchemaShapes(actual: SchemaShape, expected: SchemaShape): string[] {
  const differences: string[] = [];
  const tables = [...new Set([...Object.keys(actual), ...Object.keys(expected)])].sort();
  for (const name of tables) {
    const a = actual[name];
    const e = expected[name];
    if (!a) {
      differences.push(`table ${name} is missing`);
      continue;
    }
    if (!e) {
      differences.push(`table ${name} exists but is not defined`);
      continue;
    }
    const length = Math.max(a.columns.length, e.columns.length);
    for (let i = 0; i < length; i++) {
      if (a.columns[i] === e.columns[i]) continue;
      differences.push(`${name} column ${i + 1} is ${a.columns[i] ?? '(none)'}; expected ${e.columns[i] ?? '(none)'}`);
    }
    for (const kind of ['constraints', 'indexes'] as const) {
      for (const item of e[kind]) if (!a[kind].includes(item)) differences.push(`${name}: missing ${item}`);
      for (const item of a[kind]) if (!e[kind].includes(item)) differences.push(`${name}: unexpected ${item}`);
    }
  }
  return differences;
}

/**
 * What the release's migrations up to `version` define, read by applying them to a scratch
 * database on the same server (dropped afterwards): the definition is the migrations themselves,
 * so there is no second description of the schema to keep in step.
 */
export async function definedSchemaShape(admin: ConnectionInfo, migrations: readonly SchemaMigration[], version: string): Promise<SchemaShape> {
  const upTo = migrations.filter((m) => versionNumber(m.name) <= versionNumber(version));
  const scratch = `drill_shape_${versionNumber(version)}_${randomBytes(4).toString('hex')}`;
  await withClient(admin, (c) => c.query(`create database ${scratch}`));
  try {
    const connection = { ...admin, database: scratch };
    if (upTo.length > 0) await new Migrator(connection, upTo).up();
    return await withClient(connection, readSchemaShape);
  } finally {
    await withClient(admin, (c) => c.query(`drop database if exists ${scratch} with (force)`));
  }
}

/** Compares a database's schema with what `version` defines; the differences, empty when it matches. */
export async function schemaDifferences(
  admin: ConnectionInfo,
  database: ConnectionInfo,
  migrations: readonly SchemaMigration[],
  version: string,
): Promise<string[]> {
  const [actual, expected] = await Promise.all([
    withClient(database, readSchemaShape),
    definedSchemaShape(admin, migrations, version),
  ]);
  return diffSchemaShapes(actual, expected);
}
