import { ABSENT, left, removed, type ReapOutcome } from '../../engine/reap-outcome.js';
import type { Resource } from '../../engine/resource-ledger.js';
import { deleteTable, nftProgram } from './nft.js';
import { isDrillTableName, TABLE_FAMILY } from './nft-ruleset.js';

/**
 * Deletes an nftables table a killed drill left (a packet fault of the database link, a lost
 * region's drop). Only an `inet` table whose name is a drill table name (drill_<run>_<n>, unique
 * per run): a damaged or hand-edited ledger must never make the reaper delete the machine's own
 * firewall tables.
 */
export async function reapNftTable(r: Extract<Resource, { kind: 'nft-table' }>): Promise<ReapOutcome> {
  const what = `nftables table ${r.family} ${r.name}`;
  if (r.family !== TABLE_FAMILY || !isDrillTableName(r.name)) return left(what, 'not a drill table (inet drill_<run>_<n>); not deleted: delete it by hand if it is one');
  const program = nftProgram();
  if (!program) return left(what, 'nft is not installed, so the table cannot be looked up; install nftables and run drill cleanup');
  try {
    return (await deleteTable(program, r.name)) ? removed(what) : ABSENT;
  } catch (error) {
    return left(what, `${error instanceof Error ? error.message : String(error)}; delete it by hand (nft delete table ${r.family} ${r.name})`);
  }
}
