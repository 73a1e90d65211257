import type { DrillContext } from '../engine/drill-context.js';
import { runAmcheck } from '../workload/amcheck.js';
import { withClient } from '../targets/postgres/with-client.js';
import { corruptionExtent, type CheckedRelation } from './corruption-extent.js';
import { PAGE_SIZE } from '../targets/postgres/page-checksum.js';


/**
 * Runbook "Identify corruption extent": amcheck over the database the application uses now, and
 * from it a report per damaged relation (table or index, its size, the damaged blocks, a missing
 * file, and whether REINDEX or a restore repairs it). It assesses; it does not judge or repair.
 */
export async function assessCorruption(ctx: DrillContext): Promise<Record<string, unknown>> {
  const instance = ctx.router.current;
  const { findings, relations } = await withClient(ctx.router.connection, async (c) => {
    // amcheck and pageinspect may need creating; stop-writes makes only the application read-only.
    await c.query('set default_transaction_read_only = off');
    const found = await runAmcheck(c);
    const { rows } = await c.query<{ relation: string; kind: 'table' | 'index'; tbl: string | null; blocks: string; file: string }>(
      `select c.relname as relation, case c.relkind when 'i' then 'index' else 'table' end as kind, t.relname as tbl,
              pg_relation_filepath(c.oid) as file,
              (pg_relation_size(c.oid) / ${PAGE_SIZE})::text as blocks
         from pg_class c join pg_namespace n on n.oid = c.relnamespace
         left join pg_index i on i.indexrelid = c.oid left join pg_class t on t.oid = i.indrelid
        where n.nspname = 'public' and c.relkind in ('r', 'i') order by 1`,
    );
    const checked: CheckedRelation[] = rows.map((r) => ({ relation: r.relation, kind: r.kind, blocks: Number(r.blocks), file: r.file, ...(r.tbl ? { table: r.tbl } : {}) }));
    return { findings: found, relations: checked };
  }, 120_000);
  const extent = corruptionExtent(findings, relations);
  ctx.recorder.event('corruption-extent', `${instance.name}: ${extent.summary}`, { damaged: extent.damaged });
  return { instance: instance.name, relations: extent.damaged.map((d) => d.relation), extent, findings };
}
