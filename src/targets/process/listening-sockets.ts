import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** A TCP socket in LISTEN state that a process holds, IPv4 (/proc/net/tcp). */
export interface ListeningSocket {
  pid: number;
  address: string;
  port: number;
}

/** `0100007F:1F90` (little-endian IPv4 in hex, port in hex) → `127.0.0.1`, 8080. */
export function parseProcAddress(field: string): { address: string; port: number } {
  const [hexAddress = '', hexPort = ''] = field.split(':');
  const n = Number.parseInt(hexAddress, 16);
  return { address: [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff].join('.'), port: Number.parseInt(hexPort, 16) };
}

/** Socket inode → local address of every IPv4 TCP socket in LISTEN (state 0A) in `table` (/proc/net/tcp's text). */
export function listenersOfTable(table: string): Map<string, { address: string; port: number }> {
  const out = new Map<string, { address: string; port: number }>();
  for (const line of table.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || f[3] !== '0A') continue;
    out.set(f[9]!, parseProcAddress(f[1]!));
  }
  return out;
}

/**
 * The IPv4 TCP listening sockets the processes hold, read from the kernel: each process's file
 * descriptors (`socket:[inode]`) matched against its network namespace's /proc/<pid>/net/tcp. What
 * a process binds that the drill did not configure (a metrics port, say) is found too. A process
 * gone or unreadable holds nothing here.
 */
export function listeningSockets(pids: readonly number[]): ListeningSocket[] {
  const out: ListeningSocket[] = [];
  for (const pid of pids) {
    let table: Map<string, { address: string; port: number }>;
    let fds: string[];
    try {
      table = listenersOfTable(readFileSync(`/proc/${pid}/net/tcp`, 'utf8'));
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue; // closed since the listing
      }
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      const local = inode === undefined ? undefined : table.get(inode);
      if (local && !out.some((s) => s.pid === pid && s.address === local.address && s.port === local.port)) out.push({ pid, ...local });
    }
  }
  return out;
}
