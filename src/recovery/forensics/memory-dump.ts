import { readFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import type { DrillContext } from '../../engine/drill-context.js';
import { processStartTime } from '../../targets/process/process-identity.js';
import type { ForensicCollector, SealedCollectedFile } from './collected-file.js';

/** At most this much memory per process; the rest is left out and the truncation recorded. */
export const MEMORY_DUMP_CAP_BYTES = 256 * 1024 * 1024;
const CHUNK = 1024 * 1024;

/** One line of /proc/<pid>/maps. */
export interface MemoryRegion {
  start: number;
  end: number;
  perms: string;
  inode: string;
  path: string;
}

export function parseMaps(text: string): MemoryRegion[] {
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [range = '', perms = '', , , inode = '0', ...rest] = line.split(/\s+/);
      const [start = '0', end = '0'] = range.split('-');
      return { start: Number.parseInt(start, 16), end: Number.parseInt(end, 16), perms, inode, path: rest.join(' ') };
    });
}

/**
 * What a forensic memory image needs: readable private memory that is the process's own (heap,
 * stack, anonymous mappings: V8's heap among them) or that it wrote to (the data of its libraries).
 * Read-only file mappings (code) are the files on disk; the kernel's [vvar]/[vsyscall] are not the
 * process's and do not read.
 */
export function dumpedRegion(r: MemoryRegion): boolean {
  return r.perms[0] === 'r' && r.perms[3] === 'p' && (r.inode === '0' || r.perms[1] === 'w') && !/^\[(vvar|vsyscall|vvar_vclock)\]$/.test(r.path);
}

const sameProcess = (pid: number, startTime: string) => processStartTime(pid) === startTime;

/** The outcome of one dump, filled in while it is streamed (into the journal afterwards). */
interface DumpSummary {
  regions: number;
  dumpedBytes: number;
  capBytes: number;
  truncated: boolean;
  /** Regions that were in the maps but did not read (unmapped meanwhile): start address, hex. */
  unreadable: string[];
}

/**
 * The dump of one process: a text header, then per region a line
 * `region <start>-<end> <perms> <inode> <path> bytes=<n>` followed by its n bytes, read from
 * /proc/<pid>/mem while the process runs (not stopped: the service keeps serving; a live image).
 * The file handle pins the process's memory: its identity is checked after it is open, so a pid
 * reused meanwhile is never read.
 */
async function* dumpProcess(pid: number, startTime: string, summary: DumpSummary): AsyncGenerator<Buffer> {
  const mem = await open(`/proc/${pid}/mem`, 'r');
  try {
    const maps = readFileSync(`/proc/${pid}/maps`, 'utf8');
    if (!sameProcess(pid, startTime)) throw new Error(`pid ${pid} is no longer the process the drill started (start time changed): not dumped`);
    yield Buffer.from(`drill-memory-dump v1 pid=${pid} start=${startTime} cap=${summary.capBytes}\n`, 'latin1');
    const buffer = Buffer.alloc(CHUNK);
    for (const region of parseMaps(maps).filter(dumpedRegion)) {
      const room = summary.capBytes - summary.dumpedBytes;
      if (room <= 0) {
        summary.truncated = true;
        break;
      }
      const length = Math.min(region.end - region.start, room);
      if (length < region.end - region.start) summary.truncated = true;
      // Read the whole region before its header: a region that fails half way is left out whole.
      const parts: Buffer[] = [];
      try {
        for (let done = 0; done < length; ) {
          const { bytesRead } = await mem.read(buffer, 0, Math.min(CHUNK, length - done), region.start + done);
          if (bytesRead === 0) throw new Error('short read');
          parts.push(Buffer.from(buffer.subarray(0, bytesRead)));
          done += bytesRead;
        }
      } catch {
        summary.unreadable.push(region.start.toString(16));
        continue;
      }
      summary.regions++;
      summary.dumpedBytes += length;
      yield Buffer.from(`region ${region.start.toString(16)}-${region.end.toString(16)} ${region.perms} ${region.inode} ${region.path || '[anon]'} bytes=${length}\n`, 'latin1');
      yield* parts;
    }
  } finally {
    await mem.close();
  }
}

/**
 * Runbook "Capture memory dumps": the memory of every API process of the service (the front door
 * the leaked credentials were used against) that still runs on this machine: a process the drill
 * started, identified by pid and start time as recorded in the resource ledger, or the process of
 * an API pod's container on a node that runs here, found by its container ID. Never any other
 * process. A memory image
 * holds the service's database password and tokens: it is sealed (sealed-file.ts), never in clear.
 */
export const memoryDump: ForensicCollector = {
  kind: 'memory-dump',
  unavailable: (ctx: DrillContext) =>
    !ctx.has('service')
      ? 'the scenario has no service (targets.service)'
      : !ctx.service.localProcesses
        ? `${ctx.service.description} does not run on this machine (neither processes of the drill nor pods on nodes that run here)`
        : undefined,
  async collect(ctx) {
    const all = await ctx.service.localProcesses!();
    const api = all.filter((p) => p.mode === 'api');
    const chosen = api.length > 0 ? api : all;
    if (chosen.length === 0) throw new Error('no process of the service is running');
    return chosen.map((p): SealedCollectedFile => {
      if (p.startTime === undefined || !sameProcess(p.pid, p.startTime)) throw new Error(`${p.name} (pid ${p.pid}) has no recorded identity or is not the process the drill started: not dumped`);
      const startTime = p.startTime;
      const summary: DumpSummary = { regions: 0, dumpedBytes: 0, capBytes: MEMORY_DUMP_CAP_BYTES, truncated: false, unreadable: [] };
      return {
        name: `memory/${p.name}-${p.pid}.mem.sealed`,
        sealed: true,
        read: () => dumpProcess(p.pid, startTime, summary),
        how: `readable private regions of /proc/${p.pid}/mem (per /proc/${p.pid}/maps) of ${p.name}, pid ${p.pid} started ${startTime}, read live, at most ${MEMORY_DUMP_CAP_BYTES} bytes`,
        details: () => ({ process: p.name, pid: p.pid, startTime, ...summary }),
      };
    });
  },
};
