import type { DrillContext, FaultHandle } from '../engine/drill-context.js';
import { InputError } from '../engine/errors.js';
import type { Fault } from '../scenario/schema.js';
import { markBeforeFault } from './before-fault-point.js';
import { editWithServerStopped, lineItemCount, locateRelation, patchPage, readPage, relationFileExists, requireDataDir, revertPatches, withServerStopped } from './relation-pages.js';
import { requireDrillTarget } from '../engine/require-drill-target.js';

type LinePointerCorruption = Extract<Fault, { type: 'pg-line-pointer-corruption' }>;

/** lp_flags value of a redirect line pointer (ItemIdData: lp_off:15, lp_flags:2, lp_len:15). */
const LP_REDIRECT = 2;
const HEADER_SIZE = 24;

/**
 * Garbage in a heap page's line pointer array, written with the server stopped. The garbage is
 * chosen so that PostgreSQL's read path cannot be sent outside the page: each damaged line pointer
 * becomes a redirect to an item number past the end of the array. Sequential scans skip redirects
 * and index lookups treat the bogus target as "no such tuple", so the rows behind them silently
 * vanish from every query; amcheck's verify_heapam reports "line pointer redirection to item at
 * offset N exceeds maximum offset M" for each one.
 *
 * By default the page then gets a valid checksum (as if the damage happened in memory before the
 * page was written: a bug or bad RAM), so checksums cannot catch it and only amcheck does. With
 * fixChecksum: false the checksum no longer matches and every read of the page fails instead.
 * A VACUUM of the table turns such redirects into dead line pointers, losing the rows for good;
 * that is what PostgreSQL would do with the real thing too.
 */
export async function injectLinePointerCorruption(ctx: DrillContext, fault: LinePointerCorruption): Promise<FaultHandle> {
  const what = 'pg-line-pointer-corruption';
  requireDrillTarget(ctx, what);
  const instance = requireDataDir(ctx, what);
  const conn = ctx.router.connection;
  const relation = await locateRelation(conn, instance, fault.table, 'table', what);
  if (fault.block >= relation.blocks) {
    throw new InputError('FAULT_BLOCK_OUT_OF_RANGE', `${what}: table "${fault.table}" has ${relation.blocks} blocks; block ${fault.block} does not exist (faults[].block)`);
  }
  const point = await markBeforeFault(ctx, conn);

  const {
    result: { patch, maxItem },
    inEffectAt,
  } = await editWithServerStopped(ctx, instance, async () => {
    const items = lineItemCount((await readPage(relation, fault.block))!);
    const missing = fault.items.filter((item) => item > items);
    if (missing.length > 0) {
      throw new InputError(
        'FAULT_ITEM_OUT_OF_RANGE',
        `${what}: block ${fault.block} of "${fault.table}" has ${items} line pointers; items ${missing.join(', ')} do not exist (faults[].items)`,
      );
    }
    const garbage = (page: Buffer) => {
      fault.items.forEach((item, k) => {
        const target = Math.min(0x7fff, items + 1 + k);
        page.writeUInt32LE((target | (LP_REDIRECT << 15)) >>> 0, HEADER_SIZE + (item - 1) * 4);
      });
    };
    return { patch: await patchPage(relation, fault.block, garbage, { fixChecksum: fault.fixChecksum, what }), maxItem: items };
  });

  return {
    description: `garbage line pointers ${fault.items.join(',')} in ${fault.table} block ${fault.block} on ${instance.name}`,
    details: {
      table: fault.table,
      file: relation.relfile,
      block: fault.block,
      items: fault.items,
      lineItems: maxItem,
      checksumFixed: patch.checksumFixed,
      instance: instance.name,
      restorePointLsn: point.lsn,
    },
    inEffectAt,
    async [Symbol.asyncDispose]() {
      if (!(await relationFileExists(relation))) return;
      await withServerStopped(instance, () => revertPatches(relation, [patch]));
    },
  };
}
