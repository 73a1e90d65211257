import dgram from 'node:dgram';
import net from 'node:net';
import createDebug from 'debug';
import dnsPacket, { type Answer, type OptAnswer, type Packet } from 'dns-packet';
import { EnvironmentError } from '../../engine/errors.js';
import { absoluteName, type ARecord } from './route53-zone.js';

const debug = createDebug('drill:dns');

/** What the server answers from: the hosted zone as the Route 53 API holds it now. */
export interface ZoneSource {
  /** The zone's apex, absolute (`truststream.drill.test.`). */
  readonly name: string;
  contains(name: string): boolean;
  readA(name: string): Promise<ARecord | undefined>;
}

/** SOA values of the zone (moto's own SOA record is malformed, so the server states its own). */
const SOA_TTL = 60;

/** A UDP answer larger than this (RFC 1035) is truncated, unless the query's EDNS allows more. */
const CLASSIC_UDP_LIMIT = 512;
/** What the server itself advertises in its OPT record: the size RFC 9715/DNS Flag Day 2020 recommend. */
const SERVER_EDNS_SIZE = 1232;
/** A TCP connection idle this long is closed (RFC 7766 suggests seconds, not minutes). */
const TCP_IDLE_MS = 10_000;

/** What the server answered, by transport: for tests and benchmarks. */
export interface DnsServerCounts {
  udp: number;
  tcp: number;
  /** UDP answers sent with TC=1 (too large for the client's UDP size). */
  truncated: number;
}

/**
 * A drill-owned authoritative DNS server on loopback, UDP and TCP on the same port (as port 53
 * is): every query for a name of the zone is answered from the record sets the Route 53 API holds
 * at that moment (so an UPSERT is served on the next query, with the record's TTL), NXDOMAIN with
 * the zone's SOA for a name the zone lacks, NOERROR without answers (and the SOA) for another type
 * of an existing name, REFUSED outside the zone. A UDP answer larger than 512 bytes, or than the
 * query's EDNS UDP size, is sent truncated (TC=1, no records), and the client asks again over TCP
 * (2-byte length prefix, RFC 1035 4.2.2 / RFC 7766), as real resolvers do. It runs in the drill's
 * process: it ends with it, nothing to reap.
 */
export class DnsServer {
  readonly counts: DnsServerCounts = { udp: 0, tcp: 0, truncated: 0 };
  private readonly connections = new Set<net.Socket>();

  private constructor(
    private readonly socket: dgram.Socket,
    private readonly tcp: net.Server,
    readonly host: string,
    readonly port: number,
  ) {}

  /** `host` must be loopback: the server listens there only. */
  static async start(zone: ZoneSource, host = '127.0.0.1'): Promise<DnsServer> {
    if (!host.startsWith('127.')) throw new Error(`the drill's DNS server listens on loopback only, not ${host}`);
    const { socket, tcp, port } = await bindBoth(host);
    const server = new DnsServer(socket, tcp, host, port);
    socket.on('message', (message, remote) => {
      void answer(zone, message).then(
        (reply) => {
          if (!reply) return;
          server.counts.udp += 1;
          const sent = fitUdp(reply);
          if (sent !== reply.bytes) server.counts.truncated += 1;
          socket.send(sent, remote.port, remote.address);
        },
        (error: unknown) => debug('query from %s:%d failed: %s', remote.address, remote.port, error instanceof Error ? error.message : String(error)),
      );
    });
    tcp.on('connection', (connection) => server.serveTcp(zone, connection));
    debug('serving %s on %s:%d (udp, tcp)', zone.name, host, port);
    return server;
  }

  /** `host:port`, as resolvers take it. */
  get address(): string {
    return `${this.host}:${this.port}`;
  }

  async stop(): Promise<void> {
    for (const connection of this.connections) connection.destroy();
    await Promise.all([
      new Promise<void>((resolve) => this.socket.close(() => resolve())),
      new Promise<void>((resolve) => this.tcp.close(() => resolve())),
    ]);
  }

  /** DNS over TCP: each message has a 2-byte length in front; several may come on one connection. */
  private serveTcp(zone: ZoneSource, connection: net.Socket): void {
    this.connections.add(connection);
    connection.setTimeout(TCP_IDLE_MS, () => connection.destroy());
    connection.on('close', () => this.connections.delete(connection));
    connection.on('error', (error) => debug('tcp connection from %s: %s', connection.remoteAddress, error.message));
    let pending = Buffer.alloc(0);
    connection.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
        const message = pending.subarray(2, 2 + pending.readUInt16BE(0));
        pending = pending.subarray(2 + message.length);
        void answer(zone, message).then(
          (reply) => {
            if (!reply || connection.destroyed) return;
            this.counts.tcp += 1;
            const length = Buffer.alloc(2);
            length.writeUInt16BE(reply.bytes.length);
            connection.write(Buffer.concat([length, reply.bytes]));
          },
          (error: unknown) => debug('tcp query from %s failed: %s', connection.remoteAddress, error instanceof Error ? error.message : String(error)),
        );
      }
    });
  }
}

/**
 * A UDP socket and a TCP server on the same loopback port: the kernel picks a free UDP port, and
 * TCP takes the same number; if another process holds that TCP port, both are given up and tried
 * again with a new one.
 */
async function bindBoth(host: string): Promise<{ socket: dgram.Socket; tcp: net.Server; port: number }> {
  let last = '';
  for (let attempt = 0; attempt < 20; attempt += 1) {
    const socket = dgram.createSocket('udp4');
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind(0, host, () => resolve());
      });
    } catch (error) {
      socket.close();
      throw new EnvironmentError('DNS_SERVER_FAILED', `the drill's DNS server could not listen on ${host} (udp): ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    const { port } = socket.address();
    const tcp = net.createServer();
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen(port, host, () => resolve());
      });
      return { socket, tcp, port };
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
      socket.close();
      tcp.close();
    }
  }
  throw new EnvironmentError('DNS_SERVER_FAILED', `the drill's DNS server found no port on ${host} free for both UDP and TCP in 20 tries (last: ${last}); free loopback ports and rerun`);
}

/** A reply as encoded, with what the UDP path needs to truncate it. */
interface Reply {
  bytes: Buffer;
  /** The largest UDP answer the client takes: 512, or its EDNS UDP size. */
  udpLimit: number;
  packet: Packet;
}

/** The reply itself when it fits the client's UDP size, else its header and question with TC=1. */
function fitUdp(reply: Reply): Buffer {
  if (reply.bytes.length <= reply.udpLimit) return reply.bytes;
  const { packet } = reply;
  return dnsPacket.encode({ ...packet, flags: (packet.flags ?? 0) | dnsPacket.TRUNCATED_RESPONSE, answers: [], authorities: [], additionals: (packet.additionals ?? []).filter((a) => a.type === 'OPT') });
}

/** The reply to one query, or undefined for a packet that is not one. */
async function answer(zone: ZoneSource, message: Buffer): Promise<Reply | undefined> {
  let query: Packet;
  try {
    query = dnsPacket.decode(message);
  } catch {
    return undefined;
  }
  const edns = query.additionals?.find((a): a is OptAnswer => a.type === 'OPT');
  const udpLimit = Math.max(CLASSIC_UDP_LIMIT, edns?.udpPayloadSize ?? 0);
  const reply = (packet: Omit<Packet, 'id' | 'type' | 'questions'>): Reply => {
    // A query with EDNS gets EDNS back (RFC 6891 7), stating the server's own UDP size.
    const full: Packet = { id: query.id ?? 0, type: 'response', questions: query.questions ?? [], ...packet, ...(edns ? { additionals: [serverOpt()] } : {}) };
    return { bytes: dnsPacket.encode(full), udpLimit, packet: full };
  };
  const question = query.questions?.[0];
  if (!question) return reply({ flags: dnsPacket.AUTHORITATIVE_ANSWER | 1 /* FORMERR */ });
  if (!zone.contains(question.name)) return reply({ flags: 5 /* REFUSED */ });
  const record = await zone.readA(question.name);
  const soa = soaOf(zone.name);
  if (!record) {
    // Another type of the zone's apex is NODATA, not NXDOMAIN: the apex exists.
    const exists = absoluteName(question.name) === zone.name;
    return reply({ flags: dnsPacket.AUTHORITATIVE_ANSWER | (exists ? 0 : 3 /* NXDOMAIN */), authorities: [soa] });
  }
  if (question.type !== 'A') return reply({ flags: dnsPacket.AUTHORITATIVE_ANSWER, authorities: [soa] });
  const answers: Answer[] = record.values.map((data) => ({ type: 'A', name: question.name, ttl: record.ttl, class: 'IN', data }));
  return reply({ flags: dnsPacket.AUTHORITATIVE_ANSWER, answers });
}

function serverOpt(): OptAnswer {
  return { type: 'OPT', name: '.', udpPayloadSize: SERVER_EDNS_SIZE, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] };
}

function soaOf(zone: string): Answer {
  const apex = zone.replace(/\.$/, '');
  return {
    type: 'SOA',
    name: apex,
    ttl: SOA_TTL,
    class: 'IN',
    data: { mname: `ns.${apex}`, rname: `hostmaster.${apex}`, serial: 1, refresh: 60, retry: 30, expire: 600, minimum: SOA_TTL },
  };
}
