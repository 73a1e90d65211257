import type pg from 'pg';
import type { AmcheckFinding } from '../engine/journal-types.js';
import { PAGE_SIZE } from '../targets/postgres/page-checksum.js';


/**
 * amcheck over every table (verify_heapam) and btree index (bt_index_check with heapallindexed)
 * of the public schema. A page that fails its checksum makes amcheck error out for the whole
 * relation, so such a relation is then read block by block to name every damaged block. A btree
 * error names its block when it is about the index's own pages (an index tid, or an invalid page
 * of the index's file); PostgreSQL's DETAIL line is kept in the message.
 */
export async function runAmcheck(client: pg.Client): Promise<AmcheckFinding[]> {
  // Checks run on instances in read-only mode too (after stop-writes); this session only reads
  // relations, but creating the extension where it is missing is a write.
  await client.query('set default_transaction_read_only = off');
  await client.query('create extension if not exists amcheck');
  const findings: AmcheckFinding[] = [];
  const tables = await client.query<{ rel: string; blocks: string }>(
    `select c.relname as rel, (pg_relation_size(c.oid) / ${PAGE_SIZE})::text as blocks
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'public' and c.relkind = 'r' order by 1`,
  );
  for (const { rel, blocks } of tables.rows) {
    try {
      const { rows } = await client.query<{ blkno: string; msg: string }>(
        'select blkno::text, msg from verify_heapam($1::regclass)',
        [rel],
      );
      for (const r of rows) findings.push({ relation: rel, kind: 'heap', block: Number(r.blkno), message: r.msg });
    } catch (error) {
      findings.push(...(await scanBlocks(client, rel, 'heap', Number(blocks), error)));
    }
  }
  const indexes = await client.query<{ idx: string; file: string; blocks: string }>(
    `select c.relname as idx, pg_relation_filepath(c.oid) as file, (pg_relation_size(c.oid) / ${PAGE_SIZE})::text as blocks
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
       join pg_am am on am.oid = c.relam
      where n.nspname = 'public' and c.relkind = 'i' and am.amname = 'btree' order by 1`,
  );
  for (const { idx, file, blocks } of indexes.rows) {
    try {
      await client.query('select bt_index_check($1::regclass, true)', [idx]);
    } catch (error) {
      const message = errorMessage(error);
      const ownPage = new RegExp(`invalid page in block \\d+ of relation ${escapeRegExp(file)}$`).test(message);
      if (ownPage) findings.push(...(await scanBlocks(client, idx, 'btree', Number(blocks), error)));
      else findings.push({ relation: idx, kind: 'btree', ...indexBlock(error), message: withDetail(error) });
    }
  }
  return findings;
}

/** The index block an amcheck error is about: the "Index tid=(block,offset)" of its DETAIL. */
function indexBlock(error: unknown): { block?: number } {
  const detail = (error as { detail?: string }).detail ?? '';
  const tid = /index tid=\((\d+),\d+\)/i.exec(detail);
  return tid ? { block: Number(tid[1]) } : {};
}

async function scanBlocks(client: pg.Client, rel: string, kind: AmcheckFinding['kind'], blocks: number, first: unknown): Promise<AmcheckFinding[]> {
  await client.query('create extension if not exists pageinspect');
  const found: AmcheckFinding[] = [];
  for (let block = 0; block < blocks; block++) {
    try {
      await client.query('select length(get_raw_page($1, $2::int))', [rel, block]);
    } catch (error) {
      found.push({ relation: rel, kind, block, message: errorMessage(error) });
    }
  }
  return found.length > 0 ? found : [{ relation: rel, kind, message: withDetail(first) }];
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function withDetail(error: unknown): string {
  const detail = (error as { detail?: string }).detail;
  return detail ? `${errorMessage(error)} (${detail})` : errorMessage(error);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
