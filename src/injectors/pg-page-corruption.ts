import type { DrillContext, FaultHandle } from '../engine/drill-context.js';
import { InputError } from '../engine/errors.js';
import type { Fault } from '../scenario/schema.js';
import { markBeforeFault } from './before-fault-point.js';
import { editWithServerStopped, locateRelation, type PagePatch, patchPage, relationFileExists, requireDataDir, revertPatches, withServerStopped } from './relation-pages.js';
import { requireDrillTarget } from '../engine/require-drill-target.js';

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
  const instance = requireDataDir(ctx, 'pg-page-corruption');
  const conn = ctx.router.connection;
  const relation = await locateRelation(conn, instance, fault.table, 'table', 'pg-page-corruption');
  const outOfRange = fault.blocks.filter((b) => b >= relation.blocks);
  if (outOfRange.length > 0) {
    throw new InputError(
      'FAULT_BLOCK_OUT_OF_RANGE',
      `pg-page-corruption: table "${fault.table}" has ${relation.blocks} blocks; blocks ${outOfRange.join(', ')} do not exist (faults[].blocks)`,
    );
  }
  const point = await markBeforeFault(ctx, conn);

  const flip = (page: Buffer) => {
    for (let i = DAMAGE_OFFSET; i < DAMAGE_OFFSET + DAMAGE_LENGTH; i++) page[i] = page[i]! ^ 0xff;
  };
  // The checksum is left as it was, so it no longer matches: reads fail, as for real media damage.
  const { result: patches, inEffectAt } = await editWithServerStopped(ctx, instance, async () => {
    const done: PagePatch[] = [];
    for (const block of fault.blocks) done.push(await patchPage(relation, block, flip, { fixChecksum: false, what: 'pg-page-corruption' }));
    return done;
  });

  const details = { table: fault.table, file: relation.relfile, blocks: fault.blocks, instance: instance.name, restorePointLsn: point.lsn };
  return {
    description: `page corruption in ${fault.table} blocks ${fault.blocks.join(',')} on ${instance.name}`,
    details,
    inEffectAt,
    // Put the original bytes back so nothing corrupt outlives the drill, whatever happens to the instance.
    async [Symbol.asyncDispose]() {
      if (!(await relationFileExists(relation))) return;
      await withServerStopped(instance, () => revertPatches(relation, patches));
    },
  };
}
