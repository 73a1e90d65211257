import createDebug from 'debug';
import type { ResourceLedger } from '../../engine/resource-ledger.js';
import type { TeardownStack } from '../../engine/teardown-stack.js';
import type { LinkTarget } from '../../workload/database-link.js';
import { freeLoopbackPort } from '../postgres/free-port.js';
import { ToxiproxyLink } from './toxiproxy-link.js';
import { ToxiproxyServer } from './toxiproxy-server.js';

const debug = createDebug('drill:net');

export interface ReplicationLinkOptions {
  ledger: ResourceLedger;
  teardown: TeardownStack;
  runId: string;
  signal?: AbortSignal;
  /**
   * The loopback address the proxy listens on (default 127.0.0.1). With regions: an address of the
   * DR region's range, so the link is the inter-region link's DR end (region-layout.ts).
   */
  host?: string;
}

/**
 * The replication link a network fault with `link: replication` degrades: a Toxiproxy server of
 * its own (recorded in the ledger like the application link's, so a killed drill's is reaped) with
 * one proxy whose far end is the primary. It is made before the replicas, whose primary_conninfo
 * then points at its loopback listener: they stream through it from their first byte of WAL.
 * Its stop is on the teardown stack before the server exists. With targets.regions it is the
 * inter-region link a region-partition cuts: it listens on the DR region's link address.
 */
export async function startReplicationLink(primary: LinkTarget, options: ReplicationLinkOptions): Promise<ToxiproxyLink> {
  let started: ToxiproxyServer | undefined;
  options.teardown.push('stop Toxiproxy (replication link)', async () => {
    await started?.stop();
  });
  const server = await ToxiproxyServer.start({
    ledger: options.ledger,
    runId: options.runId,
    ...(options.signal ? { signal: options.signal } : {}),
    register: (s) => (started = s),
  });
  const host = options.host ?? '127.0.0.1';
  const link = await ToxiproxyLink.create(server.api, primary, await freeLoopbackPort(host), 'replication', host);
  debug('replication link: %s → %s', link.description, primary.name);
  return link;
}
