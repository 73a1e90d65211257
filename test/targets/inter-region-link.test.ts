import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResourceLedger } from '../../src/engine/resource-ledger.js';
import { freeLoopbackPort } from '../../src/targets/postgres/free-port.js';
import { ToxiproxyLink } from '../../src/targets/network-proxy/toxiproxy-link.js';
import { ToxiproxyServer } from '../../src/targets/network-proxy/toxiproxy-server.js';
import { regionLinkAddress } from '../../src/targets/regions/region-layout.js';

// The region partition's link for real: a Toxiproxy proxy listening on the DR range's link
// address, in front of an echo server on the primary range, cut both ways by timeout toxics.
let work: string;
let server: ToxiproxyServer | undefined;
let echo: net.Server;
let link: ToxiproxyLink;

beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), 'drill-inter-region-link-'));
  echo = net.createServer((socket) => {
    socket.on('data', (chunk) => socket.write(`echo:${chunk.toString()}`));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => echo.listen(0, '127.0.1.40', resolve));
  const { port } = echo.address() as net.AddressInfo;
  server = await ToxiproxyServer.start({ ledger: new ResourceLedger(path.join(work, 'resources.jsonl')), runId: 'test-inter-region', register: (s) => (server = s) });
  const host = regionLinkAddress('127.0.2.0/24');
  link = await ToxiproxyLink.create(server.api, { name: 'primary', connection: { host: '127.0.1.40', port, user: 'u', database: 'd' } as never }, await freeLoopbackPort(host), 'replication', host);
}, 60_000);

afterAll(async () => {
  await server?.stop();
  echo.close();
  rmSync(work, { recursive: true, force: true });
});

describe('the inter-region link (region-partition)', () => {
  it('listens on the DR range; cut both ways nothing passes and nothing closes; healed, the held connections close and new ones pass', { timeout: 30_000 }, async () => {
    expect(link.listen.host).toBe('127.0.2.50');
    const ids = [(await link.degrade({ kind: 'timeout', stream: 'downstream' })).id, (await link.degrade({ kind: 'timeout', stream: 'upstream' })).id];
    expect((await link.degradations()).map((d) => d.id).sort()).toEqual([...ids].sort());

    const socket = net.connect(link.listen);
    const events: string[] = [];
    let answer = '';
    socket.on('data', (d) => (answer += d.toString()));
    socket.on('close', () => events.push('closed'));
    socket.on('error', (e) => events.push(`error ${e.message}`));
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write('wal');
    await new Promise((r) => setTimeout(r, 1_500));
    // A dead link: no answer, and the connection is neither reset nor closed.
    expect(answer).toBe('');
    expect(events).toEqual([]);

    for (const id of ids) expect(await link.heal(id)).toBe(true);
    const deadline = Date.now() + 5_000;
    while (!events.includes('closed') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    // Toxiproxy 2.12 drops what a timeout toxic takes, and its removal closes the connections it
    // held (the toxic's cleanup): the bytes sent during the partition are gone, the connection ends.
    expect(answer).toBe('');
    expect(events).toContain('closed');
    // A new connection (the WAL receiver's reconnection) goes through again.
    const again = net.connect(link.listen);
    const reply = await new Promise<string>((resolve, reject) => {
      again.once('connect', () => again.write('wal'));
      again.once('data', (d) => resolve(d.toString()));
      again.once('error', reject);
    });
    again.destroy();
    expect(reply).toBe('echo:wal');
    socket.destroy();
  });
});
