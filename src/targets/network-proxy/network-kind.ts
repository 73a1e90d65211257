import createDebug from 'debug';
import type { TargetKind } from '../target-kind.js';
import { targetMissing } from '../target-parts.js';
import { freeLoopbackPort } from '../postgres/free-port.js';
import { ToxiproxyServer } from './toxiproxy-server.js';
import { ToxiproxyLink } from './toxiproxy-link.js';
import { NftPacketFilter } from '../network-nft/packet-filter.js';

const debug = createDebug('drill:net');

/**
 * `targets.network`: a Toxiproxy in the application's path to the drill's PostgreSQL. It attaches
 * a `DatabaseLink` to the router (a capability), so the service (provisioned after it), the SQL
 * canary and SQL probes connect through the proxy, and network faults degrade that link.
 */
export const networkKind: TargetKind<'network'> = {
  after: ['postgres'],
  // The link is a capability of the router, not a part of its own.
  provides: [],
  // The server's temp dir and process; a packet fault's nftables table.
  records: ['temp-dir', 'process', 'nft-table'],
  async provision(spec, env, provided) {
    const router = provided.router;
    if (!router) throw targetMissing('router', "targets.network, the link to the drill's PostgreSQL");
    let started: ToxiproxyServer | undefined;
    env.teardown.push('stop Toxiproxy', async () => {
      await started?.stop();
    });
    const server = await ToxiproxyServer.start({ ledger: env.ledger, runId: env.runId, signal: env.signal, register: (s) => (started = s) });
    const link = await ToxiproxyLink.create(server.api, router.current, await freeLoopbackPort());
    // Packet faults (network-loss, network-partition) drop the listener's loopback packets: the
    // application's path only; the harness's own connections go to the database's port, untouched.
    // nft is asked for only when such a fault is injected (exit 3 then if it is missing).
    const packets = new NftPacketFilter({
      ledger: env.ledger,
      runId: env.runId,
      listeners: () => [{ address: link.listen.host, ports: [link.listen.port] }],
      // What the kernel dropped: the evidence that the fault acted on real packets.
      onRemoved: (applied, dropped) =>
        env.recorder.event('packets-dropped', `${applied.id}: nftables table inet ${applied.table} deleted; the kernel dropped ${dropped ?? 'an unknown number of'} packets of ports ${applied.ports.join(', ')}`, {
          id: applied.id,
          table: applied.table,
          droppedPackets: dropped ?? null,
        }),
    });
    link.usePacketFilter(packets);
    env.teardown.push('remove packet faults (nftables tables)', () => packets.removeAll());
    router.attachLink(link);
    env.recorder.journal.components.toxiproxy = link.version;
    env.recorder.event('network', `${link.description} in front of ${router.current.name}: the application connects through it`, {
      proxy: spec.proxy,
      listen: `${link.listen.host}:${link.listen.port}`,
      upstream: `${router.current.connection.host}:${router.current.connection.port}`,
    });
    debug('database link: %s', link.description);
    return {};
  },
};
