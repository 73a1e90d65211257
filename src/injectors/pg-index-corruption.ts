import type { DrillContext, FaultHandle } from '../engine/drill-context.js';
import { InputError } from '../engine/errors.js';
import type { Fault } from '../scenario/schema.js';
import { markBeforeFault } from './before-fault-point.js';
import { editWithServerStopped, lineItemCount, locateRelation, patchPage, readPage, type RelationFile, relationFileExists, requireDataDir, revertPatches, withServerStopped } from './relation-pages.js';
import { requireDrillTarget } from '../engine/require-drill-target.js';

type IndexCorruption = Extract<Fault, { type: 'pg-index-corruption' }>;

const HEADER_SIZE = 24;
/** btpo_flags bits (access/nbtree.h). */
const BTP_LEAF = 1;
const BTP_DELETED = 4;
const BTP_META = 8;
const BTP_HALF_DEAD = 16;

interface LeafPage {
  block: number;
  /** The first item that is data rather than the high key: 1 on the rightmost page, else 2. */
  firstData: number;
  items: number;
}

/**
 * A B-tree index whose leaf page holds two index tuples in the wrong order, as PostgreSQL's own
 * amcheck tests make it: with the server stopped, the line pointers of the first two data items of
 * a leaf page are swapped, and the page gets a valid checksum (fixChecksum), so nothing in the read
 * path complains. A query that reads the table by sequential scan is unaffected; an index lookup
 * of one of the two keys can miss its row (the binary search trusts the order); amcheck's
 * bt_index_check reports "item order invariant violated". REINDEX repairs it.
 */
export async function injectIndexCorruption(ctx: DrillContext, fault: IndexCorruption): Promise<FaultHandle> {
  const what = 'pg-index-corruption';
  requireDrillTarget(ctx, what);
  const instance = requireDataDir(ctx, what);
  const conn = ctx.router.connection;
  const relation = await locateRelation(conn, instance, fault.index, 'btree index', what);
  if (fault.block !== undefined && fault.block >= relation.blocks) {
    throw new InputError('FAULT_BLOCK_OUT_OF_RANGE', `${what}: index "${fault.index}" has ${relation.blocks} blocks; block ${fault.block} does not exist (faults[].block)`);
  }
  const point = await markBeforeFault(ctx, conn);

  const {
    result: { patch, leaf },
    inEffectAt,
  } = await editWithServerStopped(ctx, instance, async () => {
    const leaf = await chooseLeaf(relation, fault.block, what);
    const swap = (page: Buffer) => {
      const a = HEADER_SIZE + (leaf.firstData - 1) * 4;
      const b = a + 4;
      const first = page.readUInt32LE(a);
      page.writeUInt32LE(page.readUInt32LE(b), a);
      page.writeUInt32LE(first, b);
    };
    return { patch: await patchPage(relation, leaf.block, swap, { fixChecksum: fault.fixChecksum, what }), leaf };
  });

  return {
    description: `index tuples ${leaf.firstData} and ${leaf.firstData + 1} swapped in ${fault.index} block ${leaf.block} on ${instance.name}`,
    details: {
      index: fault.index,
      file: relation.relfile,
      block: leaf.block,
      swappedItems: [leaf.firstData, leaf.firstData + 1],
      checksumFixed: patch.checksumFixed,
      instance: instance.name,
      restorePointLsn: point.lsn,
    },
    inEffectAt,
    // After a REINDEX the index lives in a new file and the old one is empty: revertPatches leaves it alone.
    async [Symbol.asyncDispose]() {
      if (!(await relationFileExists(relation))) return;
      await withServerStopped(instance, () => revertPatches(relation, [patch]));
    },
  };
}

/** The requested leaf page, or the first leaf page in the file with at least two data items. */
async function chooseLeaf(relation: RelationFile, requested: number | undefined, what: string): Promise<LeafPage> {
  const candidates = requested !== undefined ? [requested] : Array.from({ length: Math.max(0, relation.blocks - 1) }, (_, i) => i + 1);
  for (const block of candidates) {
    const page = await readPage(relation, block);
    const leaf = page && leafPage(page, block);
    if (leaf && leaf.items >= leaf.firstData + 1) return leaf;
  }
  throw new InputError(
    'FAULT_NO_LEAF_PAGE',
    requested !== undefined
      ? `${what}: block ${requested} of "${relation.relation}" is not a live leaf page with two index tuples (faults[].block); leave block out to let the injector choose`
      : `${what}: "${relation.relation}" has no leaf page with two index tuples; give the drill data set more rows`,
  );
}

function leafPage(page: Buffer, block: number): LeafPage | undefined {
  const special = page.readUInt16LE(16);
  if (special === 0 || special + 16 > page.length) return undefined;
  const next = page.readUInt32LE(special + 4);
  const flags = page.readUInt16LE(special + 12);
  if (!(flags & BTP_LEAF) || flags & (BTP_DELETED | BTP_HALF_DEAD | BTP_META)) return undefined;
  return { block, firstData: next === 0 ? 1 : 2, items: lineItemCount(page) };
}
