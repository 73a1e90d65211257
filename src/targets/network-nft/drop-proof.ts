import net from 'node:net';
import type { ListenerPorts } from './nft-ruleset.js';

/** What a TCP connect to a listener came to within the wait: only `timed out` is a dropped SYN. */
export type ConnectOutcome = 'timed out' | 'connected' | `refused (${string})`;

/**
 * A TCP connect to `address:port`, given `ms`. A listener whose packets the kernel drops never
 * answers the SYN: the connect neither completes nor fails. A frozen process's socket still
 * completes it (the kernel answers for it), a dead one's is refused (RST): both say the packets
 * got through.
 */
export function connectOutcome(address: string, port: number, ms: number): Promise<ConnectOutcome> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: address, port });
    const timer = setTimeout(() => done('timed out'), ms);
    function done(outcome: ConnectOutcome) {
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    }
    socket.once('connect', () => done('connected'));
    socket.once('error', (error: NodeJS.ErrnoException) => done(`refused (${error.code ?? error.message})`));
  });
}

/** Each `address:port` of the listeners and its connect outcome, all tried at once. */
export async function connectOutcomes(listeners: readonly ListenerPorts[], ms: number): Promise<Record<string, ConnectOutcome>> {
  const pairs = listeners.flatMap(({ address, ports }) => ports.map((port) => ({ address, port })));
  const outcomes = await Promise.all(pairs.map(async ({ address, port }) => [`${address}:${port}`, await connectOutcome(address, port, ms)] as const));
  return Object.fromEntries(outcomes);
}
