import type { Queryable } from './database.js';

/**
 * The database's schema version: the newest migration recorded in `schema_migrations` (the
 * migration tool's table), as its zero-padded number, or undefined when nothing is recorded.
 */
export async function readSchemaVersion(db: Queryable): Promise<string | undefined> {
  const { rows } = await db.query<{ name: string }>(
    "select name from schema_migrations where name ~ '^[0-9]+' order by substring(name from '^[0-9]+')::int desc limit 1",
  );
  return rows[0]?.name.match(/^\d+/)?.[0];
}

/**
 * Whether a database at `actual` serves a release built for `expected`. A newer schema is accepted:
 * migrations run ahead of the code that needs them (expand, then contract), so a release must work
 * on the schema of the next one. An older (or missing) schema lacks what the release uses.
 */
export function schemaSatisfies(actual: string | undefined, expected: string): boolean {
  return actual !== undefined && Number(actual) >= Number(expected);
}
