import { readFileSync } from 'node:fs';
import net from 'node:net';
import createDebug from 'debug';

const debug = createDebug('drill:free-port');

/**
 * Where listening ports are picked: below the kernel's ephemeral range, from 10000, and under
 * Kubernetes' NodePort range (30000–32767), which a kube-proxy may hold or rewrite.
 */
const LISTEN_FLOOR = 10_000;
const LISTEN_CEILING = 29_999;
const ATTEMPTS = 64;

/**
 * The kernel's range for the source ports of outgoing connections (per network namespace).
 * Linux default 32768–60999; undefined where there is no such file.
 */
export function ephemeralPortRange(file = '/proc/sys/net/ipv4/ip_local_port_range'): { low: number; high: number } | undefined {
  try {
    const [low, high] = readFileSync(file, 'utf8').trim().split(/\s+/).map(Number);
    return Number.isInteger(low) && Number.isInteger(high) ? { low: low!, high: high! } : undefined;
  } catch {
    return undefined;
  }
}

/** The ports a listener may be given: outside the ephemeral range (undefined: no room, let the kernel choose). */
export function listenPortRange(ephemeral = ephemeralPortRange()): { low: number; high: number } | undefined {
  if (!ephemeral) return { low: LISTEN_FLOOR, high: LISTEN_CEILING };
  const below = Math.min(ephemeral.low - 1, LISTEN_CEILING);
  if (below - LISTEN_FLOOR >= 1000) return { low: LISTEN_FLOOR, high: below };
  if (65_535 - (ephemeral.high + 1) >= 1000) return { low: ephemeral.high + 1, high: 65_535 };
  return undefined;
}

/**
 * A port free just now on a loopback address (default 127.0.0.1), for a server that binds it a
 * moment later and binds it again when a drill restarts it.
 *
 * Not the kernel's pick (port 0): that comes from the ephemeral range, where every outgoing
 * connection on the machine takes its source port. While a drill's service or database is down
 * for a restart, a probe, a pool or another drill's client could take that port as its source, and
 * the restart fails with EADDRINUSE (seen in the gate with --parallel 2). Ports below the range are
 * never a source port: only another listener can hold them, and the bind test below sees it.
 */
export async function freeLoopbackPort(host = '127.0.0.1'): Promise<number> {
  const range = listenPortRange();
  if (range) {
    for (let i = 0; i < ATTEMPTS; i++) {
      const port = range.low + Math.floor(Math.random() * (range.high - range.low + 1));
      if (await bindable(host, port)) return port;
    }
    debug('no free port in %d–%d on %s after %d tries: the kernel chooses', range.low, range.high, host, ATTEMPTS);
  }
  return kernelChosenPort(host);
}

/** Whether a listener can bind `host:port` now. */
export function bindable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

function kernelChosenPort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
