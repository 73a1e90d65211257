import type { DrillContext } from '../engine/drill-context.js';
import { StepFailedError } from '../engine/errors.js';
import type { RecoveryStep } from '../scenario/schema.js';
import { withClient } from '../targets/postgres/with-client.js';
import { runAmcheck } from '../workload/amcheck.js';
import { quoteIdent } from '../targets/postgres/sql-names.js';

type ReindexStep = Extract<RecoveryStep, { step: 'reindex' }>;

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Rebuilds damaged B-tree indexes from their tables (REINDEX), the repair for corruption confined
 * to an index: no restore, no data loss. Which indexes: the scenario's list, or every one amcheck
 * reports on the instance the application uses. Postcondition: amcheck (bt_index_check with
 * heapallindexed) finds each rebuilt index sound and matching its table. Damage in a table
 * itself is not something REINDEX repairs; it is reported and left to a restore.
 */
export async function reindex(ctx: DrillContext, step: ReindexStep): Promise<Record<string, unknown>> {
  const instance = ctx.router.current;
  return withClient(ctx.router.connection, async (c) => {
    // A repair session: stop-writes makes new sessions read-only for the application, not for this.
    await c.query('set default_transaction_read_only = off');
    const findings = step.indexes ? [] : await runAmcheck(c);
    const indexes = step.indexes ?? [...new Set(findings.filter((f) => f.kind === 'btree').map((f) => f.relation))];
    const tableFindings = findings.filter((f) => f.kind === 'heap');

    const { rows: known } = await c.query<{ name: string }>(
      `select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace join pg_am am on am.oid = c.relam
        where n.nspname = 'public' and c.relkind = 'i' and am.amname = 'btree' and c.relname = any($1)`,
      [indexes],
    );
    const unknown = indexes.filter((i) => !known.some((k) => k.name === i));
    if (unknown.length > 0) {
      throw new StepFailedError('INDEX_UNKNOWN', `reindex: no B-tree index ${unknown.map((i) => `"${i}"`).join(', ')} on ${instance.name} (recovery[].indexes)`);
    }

    const rebuilt: Array<{ index: string; ms: number }> = [];
    for (const index of indexes) {
      const started = Date.now();
      await c.query(`reindex index ${step.concurrently ? 'concurrently ' : ''}${quoteIdent(index)}`).catch((error: unknown) => {
        throw new StepFailedError('REINDEX_FAILED', `REINDEX of ${index} on ${instance.name} failed: ${messageOf(error)}; if its table is damaged, restore instead`);
      });
      rebuilt.push({ index, ms: Date.now() - started });
    }
    for (const index of indexes) {
      await c.query('select bt_index_check($1::regclass, true)', [index]).catch((error: unknown) => {
        throw new StepFailedError('REINDEX_DID_NOT_REPAIR', `${index} on ${instance.name} still fails amcheck after REINDEX: ${messageOf(error)}`);
      });
    }
    if (indexes.length === 0) ctx.recorder.event('reindex-nothing', `amcheck reported no damaged index on ${instance.name}; nothing rebuilt`);
    if (tableFindings.length > 0) {
      ctx.recorder.event('reindex-not-enough', `${tableFindings.length} problem(s) in tables on ${instance.name} that REINDEX does not repair`, { findings: tableFindings });
    }
    return {
      instance: instance.name,
      chosenBy: step.indexes ? 'scenario' : 'amcheck',
      rebuilt,
      concurrently: step.concurrently,
      verified: 'bt_index_check (heapallindexed) passed for every rebuilt index',
      ...(tableFindings.length > 0 ? { tableProblemsLeft: tableFindings.length } : {}),
    };
  }, step.timeout);
}
