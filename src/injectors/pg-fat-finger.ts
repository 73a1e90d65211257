import createDebug from 'debug';
import type { DrillContext, FaultHandle } from '../engine/drill-context.js';
import { EnvironmentError, InputError } from '../engine/errors.js';
import type { Fault } from '../scenario/schema.js';
import { withClient } from '../targets/postgres/with-client.js';
import { markBeforeFault } from './before-fault-point.js';
import { requireDrillTarget } from '../engine/require-drill-target.js';
import { quoteIdent } from '../targets/postgres/sql-names.js';

const debug = createDebug('drill:inject');

type FatFinger = Extract<Fault, { type: 'pg-fat-finger' }>;


/**
 * Logical corruption: someone runs an UPDATE or DELETE without a WHERE clause on the primary and
 * it commits. Nothing is physically wrong (amcheck and checksums see nothing), so only the data
 * checks notice. Just before it, the restore point, a committed xid and the server time are
 * recorded as `before-fault`, so a point-in-time restore can aim at any of them.
 *
 * The rows as they were are kept (as JSON text, so numeric values keep every digit); disposing
 * the handle writes them back on that instance if it still runs, so an external drill target does
 * not keep the damage.
 */
export async function injectFatFinger(ctx: DrillContext, fault: FatFinger): Promise<FaultHandle> {
  const what = 'pg-fat-finger';
  requireDrillTarget(ctx, what);
  const instance = ctx.router.current;
  const conn = ctx.router.connection;
  const table = quoteIdent(fault.table);
  if (fault.statement === 'update' && !fault.set) {
    throw new InputError('FAT_FINGER_NO_SET', `${what}: an update needs \`set\` (e.g. set: "balance = 0")`);
  }
  // `set` is pasted into the statement: one assignment list, no second statement, no WHERE.
  if (fault.set !== undefined && (/;/.test(fault.set) || /\bwhere\b/i.test(fault.set) || !/^\s*"?[a-z_][a-z0-9_]*"?\s*=/i.test(fault.set))) {
    throw new InputError(
      'FAT_FINGER_BAD_SET',
      `${what}: \`set\` must be an assignment list like "balance = 0, owner = 'x'" without ';' or WHERE (faults[].set)`,
    );
  }
  await withClient(conn, async (c) => {
    const { rows } = await c.query(`select 1 from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'public' and c.relname = $1 and c.relkind = 'r'`, [fault.table]);
    if (rows.length === 0) throw new InputError('FAULT_TABLE_UNKNOWN', `${what}: table "${fault.table}" does not exist in the drill database (faults[].table)`);
  });
  const point = await markBeforeFault(ctx, conn);

  const sql = fault.statement === 'delete' ? `delete from ${table}` : `update ${table} set ${fault.set}`;
  const done = await withClient(conn, async (c) => {
    await c.query('begin');
    try {
      const before = await c.query<{ rows: string | null }>(`select json_agg(t)::text as rows from ${table} t`);
      const { rows: ids } = await c.query<{ xid: string }>('select txid_current()::text as xid');
      // Extended protocol: PostgreSQL then refuses anything but exactly one statement.
      const result = await c.query({ text: sql, queryMode: 'extended' } as import('pg').QueryConfig);
      // Visible to others from the commit on, which happens after it is sent: a lower bound of T_fault.
      const committingAt = ctx.clock.now();
      await c.query('commit');
      const { rows: after } = await c.query<{ lsn: string }>('select pg_current_wal_lsn()::text as lsn');
      return { preImage: before.rows[0]!.rows ?? '[]', rows: result.rowCount ?? 0, xid: ids[0]!.xid, lsn: after[0]!.lsn, committingAt };
    } catch (error) {
      await c.query('rollback').catch(() => undefined);
      throw new InputError(
        'FAT_FINGER_REFUSED',
        `${what}: \`${sql}\` failed on ${instance.name}, so the fault is not in effect: ${error instanceof Error ? error.message : String(error)}` +
          ' (a delete from a table other rows reference is refused by its foreign keys; pick another table or an update)',
        { cause: error },
      );
    }
  });
  if (done.rows === 0) {
    throw new EnvironmentError('FAULT_NOT_IN_EFFECT', `${what}: \`${sql}\` changed no row on ${instance.name} (the table is empty), so there is nothing to recover`);
  }
  debug('%s: %d rows, xid %s, commit before %s', sql, done.rows, done.xid, done.lsn);

  return {
    description: `${fault.statement} without WHERE on ${fault.table} (${done.rows} rows) on ${instance.name}`,
    details: {
      statement: sql,
      table: fault.table,
      rows: done.rows,
      faultXid: done.xid,
      committedBeforeLsn: done.lsn,
      instance: instance.name,
      beforeFault: { restorePoint: point.name, lsn: point.lsn, xid: point.xid, time: point.time },
    },
    inEffectAt: done.committingAt,
    async [Symbol.asyncDispose]() {
      if (!(await instance.isRunning().catch(() => false))) return;
      await withClient({ ...instance.connection, database: conn.database }, async (c) => {
        // stop-writes may have made the instance read-only for new sessions; this one repairs.
        await c.query('set default_transaction_read_only = off');
        await c.query('begin');
        await c.query(await restoreStatement(c, fault.table, fault.statement), [done.preImage]);
        await c.query('commit');
      }).catch((error: unknown) => debug('could not write %s back on %s: %s', fault.table, instance.name, String(error)));
    },
  };
}

/**
 * SQL that puts the pre-image ($1, JSON rows) back: deleted rows are inserted again; updated rows
 * get their old values back by primary key (delete-and-insert would trip the foreign keys of
 * tables that reference this one).
 */
async function restoreStatement(c: import('pg').Client, name: string, statement: FatFinger['statement']): Promise<string> {
  const table = quoteIdent(name);
  const source = `json_populate_recordset(null::${table}, $1::json)`;
  if (statement === 'delete') return `insert into ${table} select * from ${source} on conflict do nothing`;
  const { rows } = await c.query<{ col: string; pk: boolean }>(
    `select a.attname as col, coalesce(a.attnum = any(i.indkey), false) as pk
       from pg_attribute a left join pg_index i on i.indrelid = a.attrelid and i.indisprimary
      where a.attrelid = $1::regclass and a.attnum > 0 and not a.attisdropped and a.attgenerated = '' order by a.attnum`,
    [name],
  );
  const keys = rows.filter((r) => r.pk).map((r) => quoteIdent(r.col));
  const others = rows.filter((r) => !r.pk).map((r) => quoteIdent(r.col));
  if (keys.length === 0 || others.length === 0) {
    throw new EnvironmentError('FAT_FINGER_NOT_REVERTIBLE', `pg-fat-finger: ${name} has no primary key to write the old values back by`);
  }
  return `update ${table} t set (${others.join(', ')}) = row(${others.map((col) => `o.${col}`).join(', ')})
            from ${source} o where ${keys.map((k) => `t.${k} = o.${k}`).join(' and ')}`;
}
