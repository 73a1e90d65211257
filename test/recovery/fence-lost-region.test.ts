import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { fenceLostRegion } from '../../src/recovery/fence-lost-region.js';
import type { Region } from '../../src/targets/regions/types.js';

// activate-dr-site's fence, against real sockets on loopback addresses of its own: what answers is
// killed, what does not (refused, or accepted and never answered) is reported unreachable.

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function listen(server: net.Server, host: string, port = 0): Promise<number> {
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  closers.push(() => new Promise((resolve) => server.close(() => resolve())));
  return (server.address() as AddressInfo).port;
}

/** A port nothing listens on at `host` (bound, then closed). */
async function closedPort(host: string): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function region(apiAddresses: string[], databasePort: number, killed: string[]): Region {
  return {
    name: 'us-west-2',
    role: 'primary',
    range: '127.0.76.0/24',
    apiAddresses,
    processes: {
      liveInstances: () => [],
      instances: () => [],
      kill: async () => {
        killed.push('service');
        return [{ name: 'truststream-api-1', pid: 1 }];
      },
      restart: async () => ({}),
    },
    database: { name: 'primary', connection: { host: '127.0.76.40', port: databasePort, user: 'drill', database: 'drill' }, kill: async () => void killed.push('database') } as unknown as Region['database'],
  };
}

describe('fence of the lost region (activate-dr-site)', () => {
  it('kills the region\'s service when an API process still answers, and says the silent database was unreachable', async () => {
    const port = await listen(http.createServer((_req, res) => res.end('ok')), '127.0.76.1');
    const killed: string[] = [];
    const events: string[] = [];
    const result = await fenceLostRegion(region(['127.0.76.1', '127.0.76.2'], await closedPort('127.0.76.40'), killed), port, (m) => events.push(m));
    expect(killed).toEqual(['service']);
    expect(result).toEqual({ service: { answered: ['127.0.76.1'], killed: ['truststream-api-1'] }, database: 'unreachable: primary does not answer SQL, nothing to fence' });
    expect(events).toEqual(['fence of us-west-2: service 1 processes killed, database unreachable']);
  });

  it('kills nothing when nothing answers: refused and frozen (accepted, never answered) are both unreachable', async () => {
    const held: net.Socket[] = [];
    const frozen = net.createServer((s) => held.push(s));
    closers.push(async () => {
      for (const s of held) s.destroy();
    });
    const port = await listen(frozen, '127.0.76.1');
    // A frozen database too: it accepts the connection and never sends a byte.
    const frozenDb = net.createServer((s) => held.push(s));
    const dbPort = await listen(frozenDb, '127.0.76.40');
    const killed: string[] = [];
    const started = performance.now();
    const result = await fenceLostRegion(region(['127.0.76.1', '127.0.76.2'], dbPort, killed), port, () => {});
    expect(killed).toEqual([]);
    expect(result).toEqual({ service: 'unreachable: no API process of the region answers, nothing to fence', database: 'unreachable: primary does not answer SQL, nothing to fence' });
    // Bounded: a second for HTTP, two for SQL, not a hang.
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});
