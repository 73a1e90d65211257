import { existsSync } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import createDebug from 'debug';
import type { DrillContext, FaultHandle } from '../engine/drill-context.js';
import { EnvironmentError, InputError } from '../engine/errors.js';
import type { Fault } from '../scenario/schema.js';
import { createRestorePoint } from '../targets/postgres/restore-point.js';
import { withClient } from '../targets/postgres/with-client.js';
import { requireDrillTarget } from './require-drill-target.js';

const debug = createDebug('drill:inject');

const PAGE_SIZE = 8192;
/** Inside the tuple area of a heap page (tuples fill pages from the end). */
const DAMAGE_OFFSET = 8000;
const DAMAGE_LENGTH = 32;

type PageCorruption = Extract<Fault, { type: 'pg-page-corruption' }>;

/**
 * On-disk page corruption as PostgreSQL's own tests make it: stop the server, flip bytes inside
 * heap pages of a table, start it again. With data checksums on, the next read of those pages
 * fails with "invalid page in block N". A restore point just before is what PITR aims at.
 */
export async function injectPageCorruption(ctx: DrillContext, fault: PageCorruption): Promise<FaultHandle> {
  requireDrillTarget(ctx, 'pg-page-corruption');
  const instance = ctx.router.current;
  if (!instance.dataDir) {
    throw new EnvironmentError(
      'FAULT_NEEDS_DATA_DIR',
      'pg-page-corruption edits the data directory on disk, which only the native provider exposes; use provider: native',
    );
  }
  const conn = ctx.router.connection;
  const relation = await withClient(conn, async (c) => {
    const { rows } = await c.query<{ file: string | null; blocks: string }>(
      `select pg_relation_filepath(c.oid) as file, (pg_relation_size(c.oid) / ${PAGE_SIZE})::text as blocks
         from pg_class c where c.relname = $1 and c.relkind = 'r'`,
      [fault.table],
    );
    return rows[0];
  });
  if (!relation?.file) {
    throw new InputError('FAULT_TABLE_UNKNOWN', `pg-page-corruption: table "${fault.table}" does not exist in the drill database`);
  }
  const blockCount = Number(relation.blocks);
  const outOfRange = fault.blocks.filter((b) => b >= blockCount);
  if (outOfRange.length > 0) {
    throw new InputError(
      'FAULT_BLOCK_OUT_OF_RANGE',
      `pg-page-corruption: table "${fault.table}" has ${blockCount} blocks; blocks ${outOfRange.join(', ')} do not exist (faults[].blocks)`,
    );
  }
  const file = path.join(instance.dataDir, relation.file);

  const lsn = await createRestorePoint(conn, 'drill-before-fault');
  ctx.restorePoints.set('before-fault', { name: 'drill-before-fault', lsn, t: ctx.clock.now() });
  ctx.recorder.event('restore-point', `restore point drill-before-fault at ${lsn}`, { lsn });

  await instance.stop();
  const originals = new Map<number, Buffer>();
  const handle = await open(file, 'r+');
  try {
    for (const block of fault.blocks) {
      const position = block * PAGE_SIZE + DAMAGE_OFFSET;
      const bytes = Buffer.alloc(DAMAGE_LENGTH);
      await handle.read(bytes, 0, DAMAGE_LENGTH, position);
      originals.set(block, Buffer.from(bytes));
      for (let i = 0; i < bytes.length; i++) bytes[i] = bytes[i]! ^ 0xff;
      await handle.write(bytes, 0, DAMAGE_LENGTH, position);
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
  debug('flipped %d bytes in blocks %o of %s', DAMAGE_LENGTH, fault.blocks, file);
  await instance.start();

  const details = { table: fault.table, file: relation.file, blocks: fault.blocks, instance: instance.name, restorePointLsn: lsn };
  return {
    description: `page corruption in ${fault.table} blocks ${fault.blocks.join(',')} on ${instance.name}`,
    details,
    // Put the original bytes back so nothing corrupt outlives the drill, whatever happens to the instance.
    async [Symbol.asyncDispose]() {
      if (!existsSync(file)) return;
      const h = await open(file, 'r+');
      try {
        for (const [block, bytes] of originals) await h.write(bytes, 0, bytes.length, block * PAGE_SIZE + DAMAGE_OFFSET);
      } finally {
        await h.close();
      }
    },
  };
}
