import type pg from 'pg';
import { quoteIdent } from './sql-names.js';

/**
 * Login roles the drill creates as credentials of the service (a leaked database password): what
 * the API needs of the database (read and write the public tables and their sequences) and
 * nothing else, marked by a comment so a revocation finds every such role and never one the drill
 * did not create.
 */
export const SERVICE_ROLE_COMMENT = 'drill: a credential of the service, created by the drill';

const ROLE_NAME = /^[a-z][a-z0-9_]{0,62}$/;

function checkedName(role: string): string {
  if (!ROLE_NAME.test(role)) throw new Error(`role name ${JSON.stringify(role)}: lower-case letters, digits and _ only`);
  return quoteIdent(role);
}

/**
 * Creates the role with its password (hex only: no quoting needed in a statement that takes no
 * parameters). The caller registers the password as a secret before calling.
 */
export async function createServiceRole(db: pg.ClientBase, role: string, password: string): Promise<void> {
  if (!/^[0-9a-f]{16,}$/.test(password)) throw new Error('a service role password is hex, at least 16 digits');
  const name = checkedName(role);
  await db.query(`create role ${name} login nosuperuser nocreatedb nocreaterole noreplication password '${password}'`);
  await db.query(`comment on role ${name} is '${SERVICE_ROLE_COMMENT}'`);
  const { rows } = await db.query<{ db: string }>('select current_database() as db');
  await db.query(`grant connect on database ${quoteIdent(rows[0]!.db)} to ${name}`);
  await db.query(`grant usage on schema public to ${name}`);
  await db.query(`grant select, insert, update, delete on all tables in schema public to ${name}`);
  await db.query(`grant usage, select on all sequences in schema public to ${name}`);
}

/** Every login role marked as a drill-created credential of the service. */
export async function serviceRoles(db: pg.ClientBase): Promise<string[]> {
  const { rows } = await db.query<{ name: string }>(
    `select r.rolname as name from pg_roles r
      where r.rolcanlogin and shobj_description(r.oid, 'pg_authid') = $1 order by 1`,
    [SERVICE_ROLE_COMMENT],
  );
  return rows.map((r) => r.name);
}

/** A new password: the old one no longer logs in; sessions already open are not touched. */
export async function changeRolePassword(db: pg.ClientBase, role: string, password: string): Promise<void> {
  if (!/^[0-9a-f]{16,}$/.test(password)) throw new Error('a service role password is hex, at least 16 digits');
  await db.query(`alter role ${checkedName(role)} password '${password}'`);
}

/** Ends every session of the role (pg_terminate_backend); returns how many were ended. */
export async function terminateRoleSessions(db: pg.ClientBase, role: string): Promise<number> {
  const { rows } = await db.query<{ n: string }>(
    'select count(*) filter (where pg_terminate_backend(pid))::text as n from pg_stat_activity where usename = $1 and pid <> pg_backend_pid()',
    [role],
  );
  return Number(rows[0]!.n);
}

/** Sessions of the role still open. */
export async function roleSessions(db: pg.ClientBase, role: string): Promise<number> {
  const { rows } = await db.query<{ n: string }>('select count(*)::text as n from pg_stat_activity where usename = $1', [role]);
  return Number(rows[0]!.n);
}

/** Removes the role and its grants in this database (it owns nothing else here); absent is fine. */
export async function dropServiceRole(db: pg.ClientBase, role: string): Promise<void> {
  const name = checkedName(role);
  const { rowCount } = await db.query('select 1 from pg_roles where rolname = $1', [role]);
  if (!rowCount) return;
  await terminateRoleSessions(db, role);
  // A terminated backend leaves pg_stat_activity a moment later.
  for (let waited = 0; waited < 5000 && (await roleSessions(db, role)) > 0; waited += 50) await new Promise((r) => setTimeout(r, 50));
  await db.query(`drop owned by ${name}`);
  await db.query(`drop role ${name}`);
}
