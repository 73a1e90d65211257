import { InputError } from '../../engine/errors.js';
import { isLoopbackIPv4 } from '../network/loopback-address.js';

/**
 * The nftables ruleset of one packet fault (pure): a table of its own, `inet` family, with one
 * base chain on the output hook. Every loopback packet passes the output hook exactly once (it is
 * then looped back to input), so dropping there drops each packet once, in both directions of a
 * connection: towards the port (`tcp dport`) and from it (`tcp sport`).
 *
 * What it may match is fixed here, not by the caller: only loopback (`oif lo`, 127.0.0.0/8 on both
 * ends) and only TCP to/from the given ports. The chain's policy is accept, so every other packet
 * goes on to the machine's own rules untouched; a drop here cannot make another table's verdict
 * weaker or stronger for anything but those packets.
 */

/** What the packets of the link suffer. */
export type PacketFault = { kind: 'loss'; percent: number } | { kind: 'partition' };

export interface PacketRuleset {
  /** The table's name: drill_<run>_<n> (tableName). */
  table: string;
  /**
   * The listener's own address (IPv4 in 127.0.0.0/8): the rules match it exactly, not the whole
   * range, because other drills on this machine bind other 127.x addresses (regions) and may use
   * the same port number there.
   */
  address: string;
  /** The TCP ports whose loopback traffic the fault hits (the link's listener). */
  ports: readonly number[];
  fault: PacketFault;
}

/** Every table a drill creates starts so; the reaper touches no other. */
export const TABLE_PREFIX = 'drill_';
export const TABLE_FAMILY = 'inet';

/** `drill_<run id with every character outside [A-Za-z0-9_] as _>_<n>`: per run, per fault. */
export function tableName(runId: string, n: number): string {
  return `${TABLE_PREFIX}${runId.replace(/[^A-Za-z0-9_]/g, '_')}_${n}`;
}

/** True for a name tableName can produce (the reaper's and the teardown's ownership check). */
export function isDrillTableName(name: string): boolean {
  return /^drill_[A-Za-z0-9_]+_\d+$/.test(name) && name.length <= 200;
}

export function rulesetText(r: PacketRuleset): string {
  if (!isDrillTableName(r.table)) throw new InputError('NFT_TABLE_NAME', `nftables table name ${JSON.stringify(r.table)} is not a drill table name (drill_<run>_<n>)`);
  if (r.ports.length === 0) throw new InputError('NFT_NO_PORT', 'a packet fault needs the TCP port(s) of the link it hits');
  for (const port of r.ports) {
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new InputError('NFT_BAD_PORT', `TCP port ${port} is not a port (1-65535)`);
  }
  if (!isLoopbackIPv4(r.address)) throw new InputError('NFT_BAD_ADDRESS', `${JSON.stringify(r.address)} is not an IPv4 address in 127.0.0.0/8: packet faults act on loopback only`);
  const verdict = verdictOf(r.fault);
  const ports = r.ports.length === 1 ? String(r.ports[0]) : `{ ${r.ports.join(', ')} }`;
  const loopback = 'oif "lo" ip saddr 127.0.0.0/8 ip daddr 127.0.0.0/8 meta l4proto tcp';
  return [
    `table ${TABLE_FAMILY} ${r.table} {`,
    '\tchain output {',
    '\t\ttype filter hook output priority filter; policy accept;',
    `\t\t${loopback} ip daddr ${r.address} tcp dport ${ports} ${verdict}`,
    `\t\t${loopback} ip saddr ${r.address} tcp sport ${ports} ${verdict}`,
    '\t}',
    '}',
    '',
  ].join('\n');
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
