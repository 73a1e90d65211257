import dgram from 'node:dgram';
import createDebug from 'debug';
import dnsPacket, { type Answer, type Packet } from 'dns-packet';
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

/**
 * A drill-owned authoritative DNS server on loopback UDP: every query for a name of the zone is
 * answered from the record sets the Route 53 API holds at that moment (so an UPSERT is served on
 * the next query, with the record's TTL), NXDOMAIN with the zone's SOA for a name the zone lacks,
 * NOERROR without answers (and the SOA) for another type of an existing name, REFUSED outside the
 * zone. It runs in the drill's process: it ends with it, nothing to reap.
 */
export class DnsServer {
  private constructor(
    private readonly socket: dgram.Socket,
    readonly host: string,
    readonly port: number,
  ) {}

  /** `host` must be loopback: the server listens there only. */
  static async start(zone: ZoneSource, host = '127.0.0.1'): Promise<DnsServer> {
    if (!host.startsWith('127.')) throw new Error(`the drill's DNS server listens on loopback only, not ${host}`);
    const socket = dgram.createSocket('udp4');
    socket.on('message', (message, remote) => {
      void answer(zone, message).then(
        (reply) => reply && socket.send(reply, remote.port, remote.address),
        (error: unknown) => debug('query from %s:%d failed: %s', remote.address, remote.port, error instanceof Error ? error.message : String(error)),
      );
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', (error) => {
        socket.close();
        reject(new EnvironmentError('DNS_SERVER_FAILED', `the drill's DNS server could not listen on ${host}: ${error.message}`));
      });
      socket.bind(0, host, () => resolve());
    });
    const { port } = socket.address();
    debug('serving %s on %s:%d/udp', zone.name, host, port);
    return new DnsServer(socket, host, port);
  }

  /** `host:port`, as resolvers take it. */
  get address(): string {
    return `${this.host}:${this.port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }
}

/** The reply to one query, or undefined for a packet that is not one. */
async function answer(zone: ZoneSource, message: Buffer): Promise<Buffer | undefined> {
  let query: Packet;
  try {
    query = dnsPacket.decode(message);
  } catch {
    return undefined;
  }
  const question = query.questions?.[0];
  const base = { id: query.id ?? 0, type: 'response' as const, questions: query.questions ?? [] };
  if (!question) return dnsPacket.encode({ ...base, flags: dnsPacket.AUTHORITATIVE_ANSWER | 1 /* FORMERR */ });
  if (!zone.contains(question.name)) return dnsPacket.encode({ ...base, flags: 5 /* REFUSED */ });
  const record = await zone.readA(question.name);
  const soa = soaOf(zone.name);
  if (!record) {
    // Another type of the zone's apex is NODATA, not NXDOMAIN: the apex exists.
    const exists = absoluteName(question.name) === zone.name;
    return dnsPacket.encode({ ...base, flags: dnsPacket.AUTHORITATIVE_ANSWER | (exists ? 0 : 3 /* NXDOMAIN */), authorities: [soa] });
  }
  if (question.type !== 'A') return dnsPacket.encode({ ...base, flags: dnsPacket.AUTHORITATIVE_ANSWER, authorities: [soa] });
  const answers: Answer[] = record.values.map((data) => ({ type: 'A', name: question.name, ttl: record.ttl, class: 'IN', data }));
  return dnsPacket.encode({ ...base, flags: dnsPacket.AUTHORITATIVE_ANSWER, answers });
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
