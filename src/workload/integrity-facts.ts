import type { IntegrityFacts, Stamp } from '../engine/journal-types.js';
import type { ConnectionInfo } from '../targets/postgres/types.js';
import { runAmcheck } from './amcheck.js';
import { DATASET_TABLES, tableFacts } from './dataset.js';
import { withClient } from '../targets/postgres/with-client.js';
import { quoteIdent } from '../targets/postgres/sql-names.js';

/**
 * Everything the integrity assertion judges, read from one instance: contents, foreign keys,
 * amcheck, checksum failures. A check that cannot run is recorded in `errors`, which the
 * assertion treats as a failure, never as a pass.
 */
export async function collectIntegrityFacts(connection: ConnectionInfo, instance: string, at: () => Stamp): Promise<IntegrityFacts> {
  const facts: IntegrityFacts = { checkedAt: at(), instance, tables: {}, foreignKeys: [], amcheck: [], pageChecksumFailures: 0, errors: [] };
  const attempt = async (check: string, fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (error) {
      facts.errors.push({ check, message: error instanceof Error ? error.message : String(error) });
    }
  };
  await attempt('checksums', async () => {
    facts.tables = await tableFacts(connection, DATASET_TABLES);
  });
  await withClient(connection, async (c) => {
    await attempt('foreign-keys', async () => {
      facts.foreignKeys = await foreignKeyViolations(c);
    });
    await attempt('amcheck', async () => {
      facts.amcheck = await runAmcheck(c);
    });
    await attempt('page-checksums', async () => {
      const { rows } = await c.query<{ failures: string | null }>(
        'select coalesce(checksum_failures, 0)::text as failures from pg_stat_database where datname = current_database()',
      );
      facts.pageChecksumFailures = Number(rows[0]?.failures ?? 0);
    });
  }).catch((error: unknown) => {
    facts.errors.push({ check: 'connect', message: error instanceof Error ? error.message : String(error) });
  });
  return facts;
}

/** Every foreign key of the public schema, checked by looking for child rows without a parent. */
async function foreignKeyViolations(c: import('pg').Client): Promise<IntegrityFacts['foreignKeys']> {
  const { rows: fks } = await c.query<{ name: string; child: string; parent: string; child_cols: string[]; parent_cols: string[] }>(
    `select con.conname as name, child.relname as child, parent.relname as parent,
            array(select attname from unnest(con.conkey) with ordinality k(n, i)
                  join pg_attribute a on a.attrelid = con.conrelid and a.attnum = k.n order by k.i)::text[] as child_cols,
            array(select attname from unnest(con.confkey) with ordinality k(n, i)
                  join pg_attribute a on a.attrelid = con.confrelid and a.attnum = k.n order by k.i)::text[] as parent_cols
       from pg_constraint con
       join pg_class child on child.oid = con.conrelid
       join pg_class parent on parent.oid = con.confrelid
       join pg_namespace n on n.oid = child.relnamespace
      where con.contype = 'f' and n.nspname = 'public' order by 1`,
  );
  const results: IntegrityFacts['foreignKeys'] = [];
  for (const fk of fks) {
    const q = quoteIdent;
    const join = fk.child_cols.map((col, i) => `p.${q(fk.parent_cols[i]!)} = c.${q(col)}`).join(' and ');
    const notNull = fk.child_cols.map((col) => `c.${q(col)} is not null`).join(' and ');
    const { rows } = await c.query<{ n: string }>(
      `select count(*)::text as n from ${q(fk.child)} c where ${notNull} and not exists (select 1 from ${q(fk.parent)} p where ${join})`,
    );
    results.push({ constraint: fk.name, table: fk.child, violations: Number(rows[0]!.n) });
  }
  return results;
}
