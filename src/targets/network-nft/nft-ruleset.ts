import { InputError } from '../../engine/errors.js';
import { isLoopbackIPv4 } from '../network/loopback-address.js';

/**
 * The nftables ruleset of one packet fault (pure): a table of its own, `inet` family, with one
 * base chain on the output hook. Every loopback packet passes the output hook exactly once (it is
 * then looped back to input), so dropping there drops each packet once, in both directions of a
 * connection: towards the port (`tcp dport`) and from it (`tcp sport`).
 *
 * What it may match is fixed here, not by the caller: only loopback (`oif lo`, 127.0.0.0/8 on both
 * ends) and only TCP to/from the given listeners, each an exact address with its own ports. The chain's policy is accept, so every other packet
 * goes on to the machine's own rules untouched; a drop here cannot make another table's verdict
 * weaker or stronger for anything but those packets.
 */

/** What the listeners' packets suffer. */
export type PacketFault = { kind: 'loss'; percent: number } | { kind: 'partition' };

/**
 * One listening address and the TCP ports the fault hits on it. The rules match the address
 * exactly (IPv4 in 127.0.0.0/8), never a range: other drills on this machine bind other 127.x
 * addresses (the regions' ranges are shared) and may use the same port number there.
 */
export interface ListenerPorts {
  address: string;
  ports: readonly number[];
}

export interface PacketRuleset {
  /** The table's name: drill_<run>_<n> (tableName). */
  table: string;
  /** The table's marker (tableComment): what the reaper checks on the table itself before deleting it. */
  comment: string;
  /** The listeners whose loopback TCP the fault hits: a database link's, or every one of a lost region. */
  listeners: readonly ListenerPorts[];
  fault: PacketFault;
}

/** Every table a drill creates starts so; the reaper touches no other. */
export const TABLE_PREFIX = 'drill_';
export const TABLE_FAMILY = 'inet';

/** `drill_<run id with every character outside [A-Za-z0-9_] as _>_<n>`: per run, per fault. */
export function tableName(runId: string, n: number): string {
  return `${TABLE_PREFIX}${runId.replace(/[^A-Za-z0-9_]/g, '_')}_${n}`;
}

/** nftables keeps at most 128 bytes of a comment (NFTNL_UDATA_COMMENT_MAXLEN, with its NUL). */
const COMMENT_MAX = 127;

/**
 * The marker every drill table carries (`comment "drill run <run id>"`): a table another tool
 * happened to name drill_<x>_<n> has no such comment, so the reaper, which deletes only a table
 * whose comment is the one its ledger recorded, leaves it alone. Characters outside
 * [A-Za-z0-9._:-] become _ (nothing to quote), cut to what nftables keeps.
 */
export function tableComment(runId: string): string {
  return `drill run ${runId.replace(/[^A-Za-z0-9._:-]/g, '_')}`.slice(0, COMMENT_MAX);
}

/** True for a comment tableComment can produce (nothing in it to escape in nft's text). */
export function isDrillTableComment(comment: string): boolean {
  return /^drill run [A-Za-z0-9._:-]+$/.test(comment) && comment.length <= COMMENT_MAX;
}

/** True for a name tableName can produce (the reaper's and the teardown's ownership check). */
export function isDrillTableName(name: string): boolean {
  return /^drill_[A-Za-z0-9_]+_\d+$/.test(name) && name.length <= 200;
}

export function rulesetText(r: PacketRuleset): string {
  if (!isDrillTableName(r.table)) throw new InputError('NFT_TABLE_NAME', `nftables table name ${JSON.stringify(r.table)} is not a drill table name (drill_<run>_<n>)`);
  if (!isDrillTableComment(r.comment)) throw new InputError('NFT_TABLE_COMMENT', `nftables table comment ${JSON.stringify(r.comment)} is not a drill table marker (drill run <run id>)`);
  if (r.listeners.length === 0 || r.listeners.some((l) => l.ports.length === 0)) throw new InputError('NFT_NO_PORT', 'a packet fault needs the TCP port(s) of the listener(s) it hits');
  for (const { address, ports } of r.listeners) {
    for (const port of ports) {
      if (!Number.isInteger(port) || port < 1 || port > 65535) throw new InputError('NFT_BAD_PORT', `TCP port ${port} is not a port (1-65535)`);
    }
    if (!isLoopbackIPv4(address)) throw new InputError('NFT_BAD_ADDRESS', `${JSON.stringify(address)} is not an IPv4 address in 127.0.0.0/8: packet faults act on loopback only`);
  }
  const verdict = verdictOf(r.fault);
  const loopback = 'oif "lo" ip saddr 127.0.0.0/8 ip daddr 127.0.0.0/8 meta l4proto tcp';
  // One pair of rules per address, each naming only that address's own ports: the pairs matched
  // are exactly the listeners given, never an address with another listener's port.
  const rules = mergedByAddress(r.listeners).flatMap(({ address, ports }) => {
    const set = ports.length === 1 ? String(ports[0]) : `{ ${ports.join(', ')} }`;
    return [`\t\t${loopback} ip daddr ${address} tcp dport ${set} ${verdict}`, `\t\t${loopback} ip saddr ${address} tcp sport ${set} ${verdict}`];
  });
  return [`table ${TABLE_FAMILY} ${r.table} {`, `\tcomment "${r.comment}";`, '\tchain output {', '\t\ttype filter hook output priority filter; policy accept;', ...rules, '\t}', '}', ''].join('\n');
}

/** The listeners with one entry per address, its ports without repeats, in the order given. */
function mergedByAddress(listeners: readonly ListenerPorts[]): ListenerPorts[] {
  const byAddress = new Map<string, number[]>();
  for (const { address, ports } of listeners) {
    const known = byAddress.get(address) ?? [];
    byAddress.set(address, [...known, ...ports.filter((p, i) => !known.includes(p) && ports.indexOf(p) === i)]);
  }
  return [...byAddress].map(([address, ports]) => ({ address, ports }));
}

function verdictOf(fault: PacketFault): string {
  switch (fault.kind) {
    case 'partition':
      return 'counter drop';
    case 'loss':
      if (!Number.isInteger(fault.percent) || fault.percent < 1 || fault.percent > 100) {
        throw new InputError('NFT_BAD_PERCENT', `packet loss of ${fault.percent} % is not a whole percentage from 1 to 100`);
      }
      // numgen random mod 100 is uniform over 0..99: `< N` drops N in 100 packets, each drawn anew.
      // The counter says how many packets were dropped (read back before the table goes).
      return fault.percent === 100 ? 'counter drop' : `numgen random mod 100 < ${fault.percent} counter drop`;
  }
}
