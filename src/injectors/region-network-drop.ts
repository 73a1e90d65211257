import net from 'node:net';
import createDebug from 'debug';
import type { DrillContext } from '../engine/drill-context.js';
import { EnvironmentError } from '../engine/errors.js';
import { connectOutcomes, type ConnectOutcome } from '../targets/network-nft/drop-proof.js';
import type { ListenerPorts } from '../targets/network-nft/nft-ruleset.js';
import { requireNft } from '../targets/network-nft/nft.js';
import { NftPacketFilter, type AppliedPacketFault } from '../targets/network-nft/packet-filter.js';
import { listeningSockets } from '../targets/process/listening-sockets.js';
import { regionListeners, type RegionListener } from '../targets/regions/region-listeners.js';
import type { Region } from '../targets/regions/types.js';
import type { RegionProcess } from './region-processes.js';

const debug = createDebug('drill:inject');

/** How long a connect to a dropped listener is given before it counts as timed out (no SYN-ACK). */
const PROOF_WAIT_MS = 1_000;
/** How long a pair freed by a kill is retried before it is left unheld (a process of the region still exiting). */
const HOLD_TRY_MS = 2_000;

/**
 * region-outage's `network: drop`: a drill-owned nftables table (the packet faults' filter,
 * src/targets/network-nft) that drops the loopback TCP to and from each address:port of the lost
 * region, so its clients' connections time out as towards a dead network. Exact pairs only: the
 * regions' ranges are shared by every drill on the machine, so a /24 rule would cut others off.
 */
export class RegionNetworkDrop {
  private readonly filter: NftPacketFilter;
  private applied: AppliedPacketFault | undefined;
  private held: net.Server[] = [];

  private constructor(
    private readonly region: Region,
    /** The region's address:port pairs the table drops. */
    readonly listeners: readonly RegionListener[],
    /** Sockets of the region's processes outside its range (a wildcard bind, say): never dropped, listed in the journal. */
    readonly outside: readonly RegionListener[],
    ctx: DrillContext,
  ) {
    this.filter = new NftPacketFilter({
      ledger: ctx.ledger,
      runId: ctx.runId,
      listeners: () => grouped(this.listeners),
      // What the kernel dropped: the evidence that clients' packets met the table.
      onRemoved: (applied, dropped) =>
        ctx.recorder.event('packets-dropped', `region ${region.name}: nftables table inet ${applied.table} deleted; the kernel dropped ${dropped ?? 'an unknown number of'} packets of its listeners`, {
          region: region.name,
          table: applied.table,
          droppedPackets: dropped ?? null,
        }),
    });
  }

  /**
   * Before the outage: nft and root, or exit 3 (nothing of the region touched yet); the region's
   * listeners, read while its processes still hold their sockets.
   */
  static plan(ctx: DrillContext, region: Region, processes: readonly RegionProcess[]): RegionNetworkDrop {
    requireNft('region-outage with network: drop');
    const names = new Map(processes.map((p) => [p.pid, p.name]));
    const { listeners, outside } = regionListeners(region, listeningSockets(processes.map((p) => p.pid)), names);
    if (listeners.length === 0) throw new EnvironmentError('REGION_NO_LISTENERS', `region ${region.name} has no listener in ${region.range} to drop; is the region running?`);
    debug('region %s: drop %o (outside its range, kept: %o)', region.name, listeners, outside);
    return new RegionNetworkDrop(region, listeners, outside, ctx);
  }

  /** Creates the table (in the run ledger first). */
  async apply(): Promise<AppliedPacketFault> {
    this.applied = await this.filter.apply({ kind: 'partition' }, 'region-outage with network: drop');
    return this.applied;
  }

  /**
   * That the table is in effect: a connect to every listener of the region times out (no SYN-ACK).
   * Without it a killed region refuses (RST) and a frozen one completes the handshake, so a
   * connect that ends either way means the drop is not what clients meet.
   */
  async prove(): Promise<Record<string, ConnectOutcome>> {
    const outcomes = await connectOutcomes(grouped(this.listeners), PROOF_WAIT_MS);
    const through = Object.entries(outcomes).filter(([, outcome]) => outcome !== 'timed out');
    if (through.length > 0 || (await this.filter.inEffect()).length === 0) {
      throw new EnvironmentError(
        'REGION_DROP_NOT_IN_EFFECT',
        `region ${this.region.name}: nftables table inet ${this.applied?.table ?? '?'} should drop every packet of its listeners, but ${through.map(([pair, o]) => `${pair} ${o}`).join(', ') || 'nft no longer lists the table'}; check what else edits nftables on this machine (nft list ruleset)`,
      );
    }
    return outcomes;
  }

  /**
   * After `mode: kill` the region's pairs are free, and the ranges are shared: another drill (a
   * `--parallel` run) could bind one and have its traffic dropped by this table, which stays until
   * teardown. A listener of the drill holds each pair until the table is gone (its packets are
   * dropped too, so nothing ever connects to it). A pair still held by a dying process is retried
   * for HOLD_TRY_MS, then left: the pairs held are returned for the journal.
   */
  async hold(): Promise<string[]> {
    const held = await Promise.all(this.listeners.map(async ({ address, port }) => ((await this.holdPair(address, port)) ? `${address}:${port}` : undefined)));
    return held.filter((pair): pair is string => pair !== undefined);
  }

  private async holdPair(host: string, port: number): Promise<boolean> {
    const until = Date.now() + HOLD_TRY_MS;
    for (;;) {
      const server = net.createServer((socket) => socket.destroy());
      const bound = await new Promise<boolean>((resolve) => {
        server.once('error', () => resolve(false));
        server.listen({ host, port, exclusive: true }, () => resolve(true));
      });
      if (bound) {
        this.held.push(server);
        return true;
      }
      server.close();
      if (Date.now() >= until) {
        debug('region %s: %s:%d could not be held after the kill', this.region.name, host, port);
        return false;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Deletes the table, if it is there (teardown, or a failed injection), then frees the pairs it held. */
  async remove(): Promise<void> {
    try {
      await this.filter.removeAll();
    } finally {
      const held = this.held.splice(0);
      await Promise.all(held.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
    }
  }
}

/** The pairs as the ruleset takes them (it merges the ports of one address into one rule pair). */
function grouped(listeners: readonly RegionListener[]): ListenerPorts[] {
  return listeners.map(({ address, port }) => ({ address, ports: [port] }));
}
