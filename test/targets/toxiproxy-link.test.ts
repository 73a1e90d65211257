import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reapResources } from '../../src/engine/reaper.js';
import { readResources, ResourceLedger } from '../../src/engine/resource-ledger.js';
import { recordedProcessAlive } from '../../src/targets/kubernetes/recorded-process.js';
import { freeLoopbackPort } from '../../src/targets/postgres/free-port.js';
import { requireToxiproxyBinary, toxiproxyBinary } from '../../src/targets/network-proxy/toxiproxy-binary.js';
import { kindOfToxic, toxicFor } from '../../src/targets/network-proxy/toxics.js';
import { ToxiproxyLink } from '../../src/targets/network-proxy/toxiproxy-link.js';
import { ToxiproxyServer } from '../../src/targets/network-proxy/toxiproxy-server.js';
import { nftProgram } from '../../src/targets/network-nft/nft.js';
import { NftPacketFilter } from '../../src/targets/network-nft/packet-filter.js';

// A real Toxiproxy (tools/build-toxiproxy.sh) in front of real TCP servers on loopback: each
// upstream answers every chunk with its own name and the chunk, so a test sees which one answered.
let work: string;
let server: ToxiproxyServer | undefined;
let link: ToxiproxyLink;
const upstreams: net.Server[] = [];

async function upstream(name: string): Promise<{ name: string; connection: { host: string; port: number; user: string; database: string } }> {
  const s = net.createServer((socket) => {
    socket.on('data', (chunk) => socket.write(`${name}:${chunk.toString()}`));
    socket.on('error', () => undefined);
  });
  upstreams.push(s);
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as net.AddressInfo;
  return { name, connection: { host: '127.0.0.1', port, user: 'test', database: 'test' } };
}

/** Connects through the link, sends `text` and resolves with the first answer (or how it ended), and how long it took. */
function roundTrip(text: string, waitMs = 10_000): Promise<{ answer?: string; error?: string; ms: number }> {
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = net.connect(link.listen);
    const done = (result: { answer?: string; error?: string }) => {
      socket.destroy();
      resolve({ ...result, ms: performance.now() - started });
    };
    socket.setTimeout(waitMs, () => done({ error: 'no answer' }));
    socket.once('connect', () => socket.write(text));
    socket.once('data', (d) => done({ answer: d.toString() }));
    socket.once('error', (e: NodeJS.ErrnoException) => done({ error: e.code ?? e.message }));
    socket.once('close', () => done({ error: 'closed' }));
  });
}

beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), 'drill-toxiproxy-test-'));
  server = await ToxiproxyServer.start({ ledger: new ResourceLedger(path.join(work, 'resources.jsonl')), runId: 'test-toxiproxy', register: (s) => (server = s) });
  link = await ToxiproxyLink.create(server.api, await upstream('first'), await freeLoopbackPort());
}, 60_000);

afterAll(async () => {
  await server?.stop();
  for (const s of upstreams) s.close();
  rmSync(work, { recursive: true, force: true });
});

describe('the toxics for each link degradation (pure)', () => {
  it('latency and bandwidth slow the answers, reset and timeout act on what the client sends', () => {
    expect(toxicFor('l', { kind: 'latency', latencyMs: 500, jitterMs: 50 })).toMatchObject({ type: 'latency', stream: 'downstream', attributes: { latency: 500, jitter: 50 } });
    expect(toxicFor('b', { kind: 'bandwidth', kilobytesPerSecond: 8 })).toMatchObject({ type: 'bandwidth', stream: 'downstream', attributes: { rate: 8 } });
    expect(toxicFor('r', { kind: 'reset' })).toMatchObject({ type: 'reset_peer', stream: 'upstream', attributes: { timeout: 0 } });
    expect(toxicFor('t', { kind: 'timeout' })).toMatchObject({ type: 'timeout', stream: 'upstream', attributes: { timeout: 0 } });
    for (const kind of ['latency', 'bandwidth', 'reset', 'timeout'] as const) {
      const degradation = kind === 'latency' ? { kind, latencyMs: 1, jitterMs: 0 } : kind === 'bandwidth' ? { kind, kilobytesPerSecond: 1 } : { kind };
      expect(kindOfToxic(toxicFor('x', degradation))).toBe(kind);
    }
    expect(kindOfToxic({ type: 'slicer' })).toBeUndefined();
  });

  it('on a replication link, reset and timeout cut the WAL the primary sends (downstream); latency and bandwidth slow it', () => {
    expect(toxicFor('r', { kind: 'reset' }, 'replication')).toMatchObject({ type: 'reset_peer', stream: 'downstream' });
    expect(toxicFor('t', { kind: 'timeout' }, 'replication')).toMatchObject({ type: 'timeout', stream: 'downstream' });
    expect(toxicFor('l', { kind: 'latency', latencyMs: 200, jitterMs: 0 }, 'replication')).toMatchObject({ type: 'latency', stream: 'downstream' });
    expect(toxicFor('b', { kind: 'bandwidth', kilobytesPerSecond: 8 }, 'replication')).toMatchObject({ type: 'bandwidth', stream: 'downstream' });
  });
});

describe('the Toxiproxy binary', () => {
  it('is looked for in the drill cache, at the pinned version or DRILL_TOXIPROXY_VERSION', () => {
    expect(toxiproxyBinary({ DRILL_CACHE_DIR: '/c' })).toBe('/c/toxiproxy/v2.12.0/bin/toxiproxy-server');
    expect(toxiproxyBinary({ DRILL_CACHE_DIR: '/c', DRILL_TOXIPROXY_VERSION: 'v2.11.0' })).toBe('/c/toxiproxy/v2.11.0/bin/toxiproxy-server');
  });

  it('missing: an environment error (exit 3) that says to run npm run setup', () => {
    const empty = mkdtempSync(path.join(work, 'cache-'));
    expect(() => requireToxiproxyBinary({ DRILL_CACHE_DIR: empty })).toThrow(expect.objectContaining({ code: 'TOXIPROXY_MISSING', kind: 'environment', message: expect.stringMatching(/run npm run setup/) }));
  });
});

describe('a database link through a real Toxiproxy', () => {
  it('listens on loopback and passes traffic to its upstream untouched', async () => {
    expect(link.listen.host).toBe('127.0.0.1');
    expect(link.description).toMatch(/^Toxiproxy 2\.12\.0 at 127\.0\.0\.1:\d+$/);
    expect(await roundTrip('hello')).toMatchObject({ answer: 'first:hello' });
    expect(await link.degradations()).toEqual([]);
  });

  it('latency: every answer at least the injected delay late; healed, the toxic is gone', async () => {
    const applied = await link.degrade({ kind: 'latency', latencyMs: 400, jitterMs: 0 });
    expect(applied.kind).toBe('latency');
    expect(await link.degradations()).toEqual([{ id: applied.id, kind: 'latency' }]);
    const slow = await roundTrip('slow');
    expect(slow.answer).toBe('first:slow');
    // A floor only: the proxy holds each answer 400 ms; a loaded machine can only add to it.
    expect(slow.ms).toBeGreaterThanOrEqual(400);
    expect(await link.heal(applied.id)).toBe(true);
    expect(await link.heal(applied.id)).toBe(false);
    expect(await link.degradations()).toEqual([]);
  });

  it('bandwidth: 64 KB through a 16 KB/s link takes at least 3 s', { timeout: 30_000 }, async () => {
    const applied = await link.degrade({ kind: 'bandwidth', kilobytesPerSecond: 16 });
    const payload = 'x'.repeat(64 * 1024);
    const started = performance.now();
    const received = await new Promise<number>((resolve, reject) => {
      const socket = net.connect(link.listen, () => socket.write(payload));
      let bytes = 0;
      const expected = 'first:'.length + payload.length;
      socket.on('data', (d) => {
        bytes += d.length;
        if (bytes >= expected) {
          socket.destroy();
          resolve(bytes);
        }
      });
      socket.on('error', reject);
    });
    const ms = performance.now() - started;
    await link.heal(applied.id);
    // The upstream may answer in several chunks, each with its name: at least the payload came back.
    expect(received).toBeGreaterThanOrEqual(payload.length);
    expect(ms).toBeGreaterThanOrEqual(3_000);
  });

  it('reset: what the client sends meets a connection reset; healed, traffic passes again', async () => {
    const applied = await link.degrade({ kind: 'reset' });
    const reset = await roundTrip('reset me');
    expect(reset.answer).toBeUndefined();
    expect(['ECONNRESET', 'closed']).toContain(reset.error);
    await link.heal(applied.id);
    expect(await roundTrip('back')).toMatchObject({ answer: 'first:back' });
  });

  it('timeout: the connection is accepted and stays open, nothing is answered; healed, new connections work', async () => {
    const applied = await link.degrade({ kind: 'timeout' });
    const silent = await roundTrip('anyone?', 1_500);
    // Accepted (no refusal, no reset), and no answer: the upstream answers in milliseconds otherwise.
    expect(silent).toMatchObject({ error: 'no answer' });
    await link.heal(applied.id);
    expect(await roundTrip('back')).toMatchObject({ answer: 'first:back' });
  });

  it('follow: the link moves to another upstream (switch-workload), closing connections to the old one', async () => {
    const open = net.connect(link.listen);
    await new Promise<void>((resolve) => open.once('data', () => resolve()).once('connect', () => open.write('before')));
    const closed = new Promise<string>((resolve) => {
      open.once('close', () => resolve('closed'));
      open.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    });
    await link.follow(await upstream('second'));
    // A client connected before the switch must not go on talking to the old instance.
    expect(['closed', 'ECONNRESET']).toContain(await closed);
    expect(await roundTrip('where')).toMatchObject({ answer: 'second:where' });
  });

  // Packet faults need nft and root (CAP_NET_ADMIN): the kernel drops the listener's packets.
  it.runIf(nftProgram() !== undefined && process.getuid?.() === 0)('loss and partition are nftables tables on the listener; a partition stays behind when the link follows another upstream', async () => {
    link.usePacketFilter(new NftPacketFilter({ ledger: new ResourceLedger(path.join(work, 'packets.jsonl')), runId: `test-link-${process.pid}`, listeners: () => [{ address: link.listen.host, ports: [link.listen.port] }] }));
    const partition = await link.degrade({ kind: 'partition' });
    expect(partition).toMatchObject({ id: 'partition-1', kind: 'partition', details: { ports: [link.listen.port], cutOff: 'second' } });
    expect(await link.degradations()).toEqual([{ id: 'partition-1', kind: 'partition' }]);
    expect(await roundTrip('cut', 1_500)).toMatchObject({ error: 'no answer' });
    // Following the same upstream leaves it; another one lifts it (the new path does not cross it).
    expect(await link.follow(await upstream('second'))).toEqual({ lifted: [] });
    expect(await link.follow(await upstream('third'))).toEqual({ lifted: ['partition-1'] });
    expect(await link.degradations()).toEqual([]);
    expect(await roundTrip('moved')).toMatchObject({ answer: 'third:moved' });
    // remove-network-fault's way: heal by id.
    const loss = await link.degrade({ kind: 'loss', percent: 40 });
    expect((await link.degradations()).map((d) => d.kind)).toEqual(['loss']);
    expect(await link.heal(loss.id)).toBe(true);
    expect(await link.heal(loss.id)).toBe(false);
    expect(readResources(path.join(work, 'packets.jsonl')).map((r) => r.kind)).toEqual(['nft-table', 'nft-table']);
  });
});

describe('Toxiproxy after a killed drill', () => {
  it('a server left running is reaped from the ledger (process and directory)', async () => {
    const file = path.join(work, 'killed-resources.jsonl');
    // In the ledger before it exists: a kill between the two must not leave a directory no reaper knows.
    const existedWhenRecorded: boolean[] = [];
    const ledger = new ResourceLedger(file);
    const record = ledger.record.bind(ledger);
    ledger.record = (r) => {
      if (r.kind === 'temp-dir') existedWhenRecorded.push(existsSync(r.path));
      record(r);
    };
    const left = await ToxiproxyServer.start({ ledger, runId: 'test-toxiproxy-killed' });
    const recorded = readResources(file);
    const entry = recorded.find((r) => r.kind === 'process')!;
    expect(entry).toMatchObject({ name: 'toxiproxy-server', pid: left.pid });
    expect(recordedProcessAlive(entry.pid, entry.match, entry.startTime)).toBe(true);
    const dir = recorded.find((r) => r.kind === 'temp-dir')!;
    expect(existsSync(dir.path)).toBe(true);
    const removed = await reapResources(file);
    expect(removed.some((r) => r.startsWith('process toxiproxy-server'))).toBe(true);
    expect(recordedProcessAlive(entry.pid, entry.match, entry.startTime)).toBe(false);
    expect(existsSync(dir.path)).toBe(false);
    await left.stop();
    expect(existedWhenRecorded).toEqual([false]);
  }, 60_000);
});
