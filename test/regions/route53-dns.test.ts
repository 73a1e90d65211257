import { execFile, execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import dnsPacket, { type Packet } from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reapResources } from '../../src/engine/reaper.js';
import { readResources, ResourceLedger } from '../../src/engine/resource-ledger.js';
import { recordedProcessAlive } from '../../src/targets/kubernetes/recorded-process.js';
import { CachingResolver, queryNow } from '../../src/targets/regions/caching-resolver.js';
import { DnsServer } from '../../src/targets/regions/dns-server.js';
import { exitCodeForError } from '../../src/cli/output.js';
import { MotoServer } from '../../src/targets/regions/moto-server.js';
import { Route53Zone } from '../../src/targets/regions/route53-zone.js';

let work: string;
let ledgerFile: string;
let moto: MotoServer | undefined;
let zone: Route53Zone;
let dns: DnsServer;
let client: ReturnType<typeof Route53Zone.client>;

const NAME = 'api.truststream.drill.test.';

beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), 'drill-route53-test-'));
  ledgerFile = path.join(work, 'resources.jsonl');
  moto = await MotoServer.start({ ledger: new ResourceLedger(ledgerFile), runId: 'test-route53', register: (m) => (moto = m) });
  client = Route53Zone.client(moto.endpoint);
  zone = await Route53Zone.create(client, 'truststream.drill.test', 'test-route53');
  dns = await DnsServer.start(zone);
}, 90_000);

afterAll(async () => {
  await dns?.stop();
  client?.destroy();
  await moto?.stop();
  // Nothing of the test left running.
  const processes = readResources(ledgerFile).filter((r) => r.kind === 'process');
  expect(processes.filter((r) => recordedProcessAlive(r.pid, r.match, r.startTime))).toEqual([]);
  rmSync(work, { recursive: true, force: true });
});

describe('Route 53 (real moto server) answered by the drill\'s DNS server (real UDP queries)', () => {
  it('serves an UPSERTed record with its TTL, and the next answer after another UPSERT', async () => {
    const first = await zone.upsertA({ name: NAME, values: ['127.0.1.1', '127.0.1.2'], ttl: 30 }, 'test');
    await zone.waitInsync(first, 10_000);
    const answer = await queryNow(dns.address, NAME);
    expect(answer.addresses).toEqual(['127.0.1.1', '127.0.1.2']);
    expect(answer.ttl).toBe(30);

    await zone.waitInsync(await zone.upsertA({ name: NAME, values: ['127.0.2.1'], ttl: 7 }, 'test'), 10_000);
    const flipped = await queryNow(dns.address, NAME);
    expect(flipped.addresses).toEqual(['127.0.2.1']);
    expect(flipped.ttl).toBe(7);
    // Read back through the API too: the record is what moto holds.
    expect(await zone.readA(NAME)).toEqual({ name: NAME, values: ['127.0.2.1'], ttl: 7 });
  });

  it('answers NXDOMAIN for a name the zone lacks and refuses names outside it', async () => {
    await expect(queryNow(dns.address, 'nothing.truststream.drill.test')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    await expect(queryNow(dns.address, 'example.com')).rejects.toMatchObject({ code: 'EREFUSED' });
  });

  it('a client resolver keeps its answer for the TTL, and asks again after it', async () => {
    await zone.waitInsync(await zone.upsertA({ name: NAME, values: ['127.0.1.1'], ttl: 1 }, 'test'), 10_000);
    let now = 0;
    const resolver = new CachingResolver(dns.address, () => now);
    expect((await resolver.resolve(NAME)).addresses).toEqual(['127.0.1.1']);
    await zone.waitInsync(await zone.upsertA({ name: NAME, values: ['127.0.2.1'], ttl: 1 }, 'test'), 10_000);
    // Within the TTL: the cached (now stale) answer; the negative control of the flip below.
    now = 999;
    expect((await resolver.resolve(NAME)).addresses).toEqual(['127.0.1.1']);
    now = 1000;
    expect((await resolver.resolve(NAME)).addresses).toEqual(['127.0.2.1']);
    resolver.cancel();
  });
});

/** One query over UDP to the drill's DNS server, with or without EDNS (its UDP size). */
async function udpQuery(name: string, edns?: number): Promise<Packet> {
  const socket = dgram.createSocket('udp4');
  try {
    const query = dnsPacket.encode({ type: 'query', id: 7, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', name }], ...(edns ? { additionals: [{ type: 'OPT', name: '.', udpPayloadSize: edns, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }] } : {}) });
    const reply = new Promise<Buffer>((resolve, reject) => {
      socket.once('message', resolve);
      socket.once('error', reject);
      setTimeout(() => reject(new Error('no UDP answer within 5 s')), 5_000).unref();
    });
    socket.send(query, dns.port, dns.host);
    return dnsPacket.decode(await reply);
  } finally {
    socket.close();
  }
}

/** Queries over one TCP connection, each with its 2-byte length; `split` sends the bytes in two writes mid-message. */
async function tcpQueries(names: string[], split = false): Promise<Packet[]> {
  const socket = net.connect(dns.port, dns.host);
  try {
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const wire = Buffer.concat(names.map((name, i) => dnsPacket.streamEncode({ type: 'query', id: 100 + i, questions: [{ type: 'A', name }] })));
    if (split) {
      socket.write(wire.subarray(0, 1));
      await new Promise((resolve) => setTimeout(resolve, 50));
      socket.write(wire.subarray(1));
    } else socket.write(wire);
    let received = Buffer.alloc(0);
    const replies: Packet[] = [];
    await new Promise<void>((resolve, reject) => {
      socket.on('data', (chunk: Buffer) => {
        received = Buffer.concat([received, chunk]);
        while (received.length >= 2 && received.length >= 2 + received.readUInt16BE(0)) {
          replies.push(dnsPacket.decode(received.subarray(2, 2 + received.readUInt16BE(0))));
          received = received.subarray(2 + received.readUInt16BE(0));
        }
        if (replies.length === names.length) resolve();
      });
      socket.once('error', reject);
      setTimeout(() => reject(new Error(`${replies.length} of ${names.length} TCP answers within 5 s`)), 5_000).unref();
    });
    return replies.sort((a, b) => (a.id ?? 0) - (b.id ?? 0));
  } finally {
    socket.destroy();
  }
}

/** The addresses of a reply's A records. */
const addressesOf = (packet: Packet) => (packet.answers ?? []).flatMap((a) => (a.type === 'A' ? [a.data] : []));
/** `dig` (Debian: dnsutils) when installed: an independent resolver implementation to ask. */
const dig = (() => {
  try {
    execFileSync('dig', ['-v'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
// Asynchronous: the DNS server answers from this process's event loop.
const digOut = async (...args: string[]) => (await promisify(execFile)('dig', [`@${dns.host}`, '-p', String(dns.port), '+time=2', '+tries=1', ...args], { encoding: 'utf8' })).stdout;

const truncated = (packet: Packet) => ((packet.flags ?? 0) & dnsPacket.TRUNCATED_RESPONSE) !== 0;

describe('DNS over TCP and truncation (real UDP and TCP sockets)', () => {
  const BIG = 'big.truststream.drill.test.';
  // 120 A records of an uncompressed 28-byte name: about 5 KB, more than 512 bytes and more than
  // any EDNS UDP size a client offers (c-ares: 1232, dig: 1232, the largest common: 4096).
  const many = Array.from({ length: 120 }, (_, i) => `127.0.3.${i + 1}`);

  beforeAll(async () => {
    await zone.waitInsync(await zone.upsertA({ name: BIG, values: many, ttl: 30 }, 'test'), 10_000);
    await zone.waitInsync(await zone.upsertA({ name: NAME, values: ['127.0.1.1'], ttl: 30 }, 'test'), 10_000);
  });

  it('a small answer goes over UDP whole (TC=0): the negative control of truncation', async () => {
    const before = dns.counts.truncated;
    const reply = await udpQuery(NAME);
    expect(truncated(reply)).toBe(false);
    expect(addressesOf(reply)).toEqual(['127.0.1.1']);
    expect(dns.counts.truncated).toBe(before);
  });

  it('an answer larger than 512 bytes, or than the EDNS size, is sent with TC=1 and no records', async () => {
    const before = dns.counts.truncated;
    const plain = await udpQuery(BIG);
    expect(truncated(plain)).toBe(true);
    expect(plain.answers ?? []).toEqual([]);
    expect(plain.questions?.[0]?.name).toBe(BIG.replace(/\.$/, ''));
    const edns = await udpQuery(BIG, 4096);
    expect(truncated(edns)).toBe(true);
    // A query with EDNS gets the server's OPT back.
    expect(edns.additionals?.find((a) => a.type === 'OPT')).toMatchObject({ udpPayloadSize: 1232 });
    expect(dns.counts.truncated).toBe(before + 2);
  });

  it('the same answer comes whole over TCP, on the UDP port, several queries per connection', async () => {
    const [big, small] = await tcpQueries([BIG, NAME]);
    expect(truncated(big!)).toBe(false);
    expect(addressesOf(big!).sort()).toEqual([...many].sort());
    expect(addressesOf(small!)).toEqual(['127.0.1.1']);
    // A length prefix split across writes is reassembled.
    const [again] = await tcpQueries([NAME], true);
    expect(addressesOf(again!)).toEqual(['127.0.1.1']);
  });

  it('a client resolver retries a truncated answer over TCP and gets every record', async () => {
    const tcpBefore = dns.counts.tcp;
    const truncatedBefore = dns.counts.truncated;
    const answer = await queryNow(dns.address, BIG);
    expect(answer.addresses).toEqual([...many].sort());
    // It asked over UDP first, was told TC=1, then asked over TCP.
    expect(dns.counts.truncated).toBeGreaterThan(truncatedBefore);
    expect(dns.counts.tcp).toBeGreaterThan(tcpBefore);
  });

  it.skipIf(!dig)('dig sees TC=1 over UDP, retries over TCP by itself, and reads the answer with +tcp', async () => {
    // +ignore: keep the truncated UDP answer instead of retrying, to see the flag.
    expect(await digOut(BIG, 'A', '+ignore', '+noedns')).toMatch(/;; flags: qr aa tc;/);
    const retried = (await digOut(BIG, 'A', '+short')).trim().split('\n').sort();
    expect(retried).toEqual([...many].sort());
    const overTcp = (await digOut(BIG, 'A', '+tcp', '+short')).trim().split('\n').sort();
    expect(overTcp).toEqual([...many].sort());
    // Negative control: a small answer has no TC flag.
    expect(await digOut(NAME, 'A', '+ignore', '+noedns')).toMatch(/;; flags: qr aa;/);
  });
});

describe('drill-owned names in a zone the drill did not create (the real-AWS rule, against moto)', () => {
  const OWNED = 'owned.truststream.drill.test.';
  const FOREIGN = 'foreign.truststream.drill.test.';
  // The zone as a real-AWS drill would open it: by id, with the run that must own what it changes.
  const guarded = (run: string) => Route53Zone.open(client, zone.id, zone.name, { ownerRun: run });

  it('claims a free name with its marker before the first UPSERT, and UPSERTs it again later', async () => {
    await guarded('run-a').upsertA({ name: OWNED, values: ['127.0.1.1'], ttl: 5 }, 'test');
    const sets = await zone.recordSets(OWNED);
    expect(sets.find((r) => r.type === 'TXT')?.values).toEqual(['"drill-owner=run-a"']);
    expect(sets.find((r) => r.type === 'A')?.values).toEqual(['127.0.1.1']);
    // The same run (its failover step) changes it again.
    await guarded('run-a').upsertA({ name: OWNED, values: ['127.0.2.1'], ttl: 5 }, 'test');
    expect((await queryNow(dns.address, OWNED)).addresses).toEqual(['127.0.2.1']);
    // Another run may not: its teardown would leave the name behind (it deletes only its own), and
    // two drills on one name would move each other's clients. It is refused, nothing changed.
    await expect(guarded('run-b').upsertA({ name: OWNED, values: ['127.0.3.1'], ttl: 5 }, 'test')).rejects.toMatchObject({ code: 'ROUTE53_RECORD_OTHER_RUN' });
    expect((await zone.readA(OWNED))?.values).toEqual(['127.0.2.1']);
  });

  it('refuses a name that has records and no marker (exit 2), and changes nothing', async () => {
    // Someone else's record: written without the guard, as another tool would.
    await zone.upsertA({ name: FOREIGN, values: ['127.0.9.9'], ttl: 60 }, 'not drill');
    const error = await guarded('run-a').upsertA({ name: FOREIGN, values: ['127.0.2.1'], ttl: 5 }, 'test').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ROUTE53_RECORD_NOT_DRILLS' });
    expect((error as Error).message).toMatch(new RegExp(`${FOREIGN.replace(/\./g, '\\.')} in hosted zone ${zone.id} already has records the drill did not create \\(A 127\\.0\\.9\\.9\\).*Nothing was changed`));
    expect(exitCodeForError(error)).toBe(2);
    expect(await zone.recordSets(FOREIGN)).toEqual([{ type: 'A', values: ['127.0.9.9'], ttl: 60 }]);
    // Negative control: the unguarded zone (the embedded moto's own zone) changes it.
    await zone.upsertA({ name: FOREIGN, values: ['127.0.2.1'], ttl: 5 }, 'test');
    expect((await zone.readA(FOREIGN))?.values).toEqual(['127.0.2.1']);
  });

  it('removes the drill-owned A record and its marker, and leaves other names alone', async () => {
    await guarded('run-a').deleteOwned(OWNED);
    expect(await zone.recordSets(OWNED)).toEqual([]);
    expect((await zone.readA(FOREIGN))?.values).toEqual(['127.0.2.1']);
  });
});

describe('the embedded Route 53 API after a killed drill', () => {
  it('a moto server left running is reaped from the ledger (process and directory)', async () => {
    const file = path.join(work, 'killed-resources.jsonl');
    const left = await MotoServer.start({ ledger: new ResourceLedger(file), runId: 'test-route53-killed' });
    const recorded = readResources(file);
    const entry = recorded.find((r) => r.kind === 'process')!;
    expect(entry).toMatchObject({ name: 'moto-server', pid: left.pid });
    expect(recordedProcessAlive(entry.pid, entry.match, entry.startTime)).toBe(true);
    const removed = await reapResources(file);
    expect(removed.some((r) => r.startsWith('process moto-server'))).toBe(true);
    expect(recordedProcessAlive(entry.pid, entry.match, entry.startTime)).toBe(false);
    const dir = recorded.find((r) => r.kind === 'temp-dir')!;
    expect(removed.some((r) => r.includes(dir.path))).toBe(true);
    await left.stop();
  }, 60_000);
});
