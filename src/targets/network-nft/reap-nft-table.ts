import { ABSENT, left, removed, type ReapOutcome } from '../../engine/reap-outcome.js';
import type { Resource } from '../../engine/resource-ledger.js';
import { deleteMarkedTable, nftProgram } from './nft.js';
import { isDrillTableComment, isDrillTableName, TABLE_FAMILY } from './nft-ruleset.js';

/**
 * Deletes an nftables table a killed drill left (a packet fault of the database link, a lost
 * region's drop). Only an `inet` table whose name is a drill table name (drill_<run>_<n>) and that
 * carries, on the table itself, the marker comment the ledger recorded (`drill run <run id>`): a
 * table another tool happened to name like a drill table, or a damaged or hand-edited ledger, must
 * never make the reaper delete it. Deleted by the handle of the listing that showed the marker.
 */
export async function reapNftTable(r: Extract<Resource, { kind: 'nft-table' }>): Promise<ReapOutcome> {
  const what = `nftables table ${r.family} ${r.name}`;
  if (r.family !== TABLE_FAMILY || !isDrillTableName(r.name)) return left(what, 'not a drill table (inet drill_<run>_<n>); not deleted: delete it by hand if it is one');
  if (r.comment === undefined || !isDrillTableComment(r.comment)) {
    return left(what, 'the ledger records no drill marker for it (written by an older drill); not deleted on its name alone: delete it by hand if it is one (nft list table inet ' + r.name + ')');
  }
  const program = nftProgram();
  if (!program) return left(what, 'nft is not installed, so the table cannot be looked up; install nftables and run drill cleanup');
  try {
    const outcome = await deleteMarkedTable(program, r.name, r.comment);
    if (outcome.state === 'deleted') return removed(what);
    if (outcome.state === 'absent') return ABSENT;
    return left(
      what,
      `it does not carry the drill's marker (comment ${JSON.stringify(r.comment)}; it has ${outcome.comment === undefined ? 'no comment' : `comment ${JSON.stringify(outcome.comment)}`}), so it is not the table the drill created; not deleted: check who made it (nft list table inet ${r.name})`,
    );
  } catch (error) {
    return left(what, `${error instanceof Error ? error.message : String(error)}; delete it by hand (nft delete table ${r.family} ${r.name})`);
  }
}
