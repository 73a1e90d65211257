import { randomBytes } from 'node:crypto';
import type { Queryable } from '../database.js';

export const READER_ROLE = 'truststream_reader';

export interface ReaderRole {
  role: string;
  /** Generated for this call (the role's password is replaced each time); returned, never logged. */
  password: string;
}

/**
 * Creates (or resets) the `truststream_reader` login role the reader mode connects as: SELECT on
 * every table of the public schema, now and later (default privileges of the calling role), and
 * nothing else, so a write through it is refused by the database itself ("permission denied").
 * Run it as a role that owns the tables, connected to the service's database. Not a migration:
 * roles are cluster-wide and carry a password, neither of which belongs in the schema history.
 */
export async function createReaderRole(db: Queryable): Promise<ReaderRole> {
  // Hex: no character in it needs quoting in the ALTER ROLE below (which takes no parameters).
  const password = randomBytes(24).toString('hex');
  await db.query(`do $$ begin
      if not exists (select from pg_roles where rolname = '${READER_ROLE}') then create role ${READER_ROLE}; end if;
    end $$`);
  await db.query(`alter role ${READER_ROLE} with login nosuperuser nocreatedb nocreaterole noreplication password '${password}'`);
  const { rows } = await db.query<{ db: string }>('select current_database() as db');
  await db.query(`grant connect on database "${rows[0]!.db.replace(/"/g, '""')}" to ${READER_ROLE}`);
  await db.query(`grant usage on schema public to ${READER_ROLE}`);
  await db.query(`grant select on all tables in schema public to ${READER_ROLE}`);
  await db.query(`alter default privileges in schema public grant select on tables to ${READER_ROLE}`);
  return { role: READER_ROLE, password };
}
