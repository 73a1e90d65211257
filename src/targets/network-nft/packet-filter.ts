import createDebug from 'debug';
import { EnvironmentError } from '../../engine/errors.js';
import type { ResourceLedger } from '../../engine/resource-ledger.js';
import { deleteMarkedTable, droppedPackets, requireNft, runNft, tableHandle } from './nft.js';
import { rulesetText, TABLE_FAMILY, tableComment, tableName, type ListenerPorts, type PacketFault } from './nft-ruleset.js';

const debug = createDebug('drill:nft');

export interface AppliedPacketFault {
  id: string;
  kind: PacketFault['kind'];
  table: string;
  /** The marker the table carries (`drill run <run id>`), recorded in the ledger with its name. */
  comment: string;
  handle: number;
  /** Every port the table names (on whichever listener address). */
  ports: number[];
  listeners: ListenerPorts[];
  ruleset: string;
}

/**
 * The number of the next table of a run: one count per run in this process, shared by every
 * filter (the database link's, a region outage's), so no two tables of a run share a name.
 */
const tablesMade = new Map<string, number>();
function nextTableNumber(runId: string): number {
  const n = (tablesMade.get(runId) ?? 0) + 1;
  tablesMade.set(runId, n);
  return n;
}

/**
 * Packet faults on the loopback TCP traffic of exact listeners (the database link's, or those of a
 * lost region: region-outage with `network: drop`): one
 * nftables table per fault, so removing one is deleting its table by handle and nothing else.
 * Each table is recorded in the run ledger (kind `nft-table`) before nft creates it, so a drill
 * killed in between leaves nothing the reaper does not know of.
 */
export class NftPacketFilter {
  private n = 0;
  private readonly live = new Map<string, AppliedPacketFault>();

  constructor(
    private readonly options: {
      ledger: ResourceLedger;
      runId: string;
      /** The listeners hit (exact loopback addresses and their ports), read when a fault is applied. */
      listeners: () => ListenerPorts[];
      /** Told what the kernel counted as dropped, just before a fault's table is deleted. */
      onRemoved?: (applied: AppliedPacketFault, droppedPackets: number | undefined) => void;
    },
  ) {}

  async apply(fault: PacketFault, what: string): Promise<AppliedPacketFault> {
    const program = requireNft(what);
    this.n += 1;
    const id = `${fault.kind}-${this.n}`;
    const table = tableName(this.options.runId, nextTableNumber(this.options.runId));
    const listeners = this.options.listeners().map((l) => ({ address: l.address, ports: [...l.ports] }));
    const ports = [...new Set(listeners.flatMap((l) => l.ports))];
    const comment = tableComment(this.options.runId);
    const ruleset = rulesetText({ table, comment, listeners, fault });
    this.options.ledger.record({ kind: 'nft-table', family: TABLE_FAMILY, name: table, comment });
    await runNft(program, ['-f', '-'], ruleset);
    const handle = await tableHandle(program, table).catch(() => undefined);
    if (handle === undefined) {
      // Created but not tracked: delete it now rather than leave it to the end-of-run reaper.
      await deleteMarkedTable(program, table, comment).catch(() => undefined);
      throw new EnvironmentError('NFT_TABLE_NOT_LISTED', `nft took table ${TABLE_FAMILY} ${table} but does not list it; check what else edits nftables on this machine`);
    }
    const applied = { id, kind: fault.kind, table, comment, handle, ports, listeners, ruleset };
    this.live.set(id, applied);
    debug('%s: table %s (handle %d) on %o', id, table, handle, listeners);
    return applied;
  }

  /** Deletes the fault's table; false when it was not there (healed already, or not this filter's). */
  async remove(id: string): Promise<boolean> {
    const applied = this.live.get(id);
    if (!applied) return false;
    const program = requireNft('removing a packet fault');
    const dropped = await droppedPackets(program, applied.table).catch(() => undefined);
    // Tracked until the delete succeeded: a failed delete is retried at teardown.
    // Only while the table still carries this run's marker: one of that name without it is not ours.
    const deleted = (await deleteMarkedTable(program, applied.table, applied.comment)).state === 'deleted';
    this.live.delete(id);
    if (deleted) this.options.onRemoved?.(applied, dropped);
    return deleted;
  }

  /** The faults whose tables nft lists now (what is in effect, read back from the kernel). */
  async inEffect(): Promise<AppliedPacketFault[]> {
    if (this.live.size === 0) return [];
    const program = requireNft('reading packet faults back');
    const out: AppliedPacketFault[] = [];
    for (const applied of this.live.values()) if ((await tableHandle(program, applied.table)) === applied.handle) out.push(applied);
    return out;
  }

  /** Every table still there (teardown). */
  async removeAll(): Promise<void> {
    for (const id of [...this.live.keys()]) await this.remove(id);
  }

  owns(id: string): boolean {
    return this.live.has(id);
  }
}
