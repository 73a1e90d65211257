import path from 'node:path';
import createDebug from 'debug';
import type { DataDirectory } from './data-directory.js';
import { formatLsn, parseLsn } from './lsn.js';

const debug = createDebug('drill:pg');

export interface WalEnd {
  /** Where the last valid WAL record ends: what crash recovery would replay up to. */
  lsn: string;
  /** The last valid record, as pg_waldump describes it, for the journal. */
  lastRecord: string;
}

/**
 * Where the WAL of a stopped (or crashed) server ends, read offline from its data directory
 * (where it is: on this machine, or in its container): pg_waldump reads forward from `from`
 * (default: the last checkpoint's redo point, from pg_controldata) and prints every valid record;
 * the end of the last one is the end of the WAL. pg_waldump's closing error is not used for this:
 * PostgreSQL 15 reads ahead and may name a later page than the one where the WAL really ends.
 * Undefined when a tool is missing or its output is not understood: the caller reports the
 * position as unknown rather than guessing.
 */
export async function walEndOf(directory: DataDirectory, from?: string): Promise<WalEnd | undefined> {
  if (!(await directory.hasTool('pg_controldata')) || !(await directory.hasTool('pg_waldump')) || !(await directory.exists('global/pg_control'))) {
    return undefined;
  }
  const control = await directory.runTool('pg_controldata', ['-D', directory.path]);
  const layout = walLayout(control.stdout);
  const redo = /Latest checkpoint's REDO location:\s+(\S+)/.exec(control.stdout)?.[1];
  if (!layout || !redo) return undefined;
  // Reading from a later known position keeps the dump short; when no record follows it (the WAL
  // ends right there), read again from the redo point so there is a last record to measure.
  const starts = from && parseLsn(from) > parseLsn(redo) ? [from, redo] : [redo];
  for (const start of starts) {
    const dump = await directory.runTool('pg_waldump', ['--path', path.posix.join(directory.path, 'pg_wal'), '--start', start], [0, 1]);
    const last = dump.stdout.trimEnd().split('\n').at(-1) ?? '';
    const record = parseRecordLine(last);
    if (!record) {
      debug('no WAL record after %s in %s: %s', start, directory.location, dump.stderr.trim());
      continue;
    }
    const lsn = formatLsn(recordEnd(parseLsn(record.lsn), record.totalLength, layout));
    debug('WAL of %s ends at %s (read from %s)', directory.location, lsn, start);
    return { lsn, lastRecord: last.replace(/\s+/g, ' ').trim() };
  }
  return undefined;
}

export interface WalLayout {
  blockSize: number;
  segmentSize: number;
}

export function walLayout(controldata: string): WalLayout | undefined {
  const blockSize = Number(/WAL block size:\s+(\d+)/.exec(controldata)?.[1]);
  const segmentSize = Number(/Bytes per WAL segment:\s+(\d+)/.exec(controldata)?.[1]);
  return blockSize > 0 && segmentSize > 0 ? { blockSize, segmentSize } : undefined;
}

/** `rmgr: Heap len (rec/tot): 59/ 59, tx: 754, lsn: 0/03018BE0, prev ...` -> its start and total length. */
export function parseRecordLine(line: string): { lsn: string; totalLength: number } | undefined {
  const match = /len \(rec\/tot\):\s*\d+\/\s*(\d+),.*?lsn: ([0-9A-F]+\/[0-9A-F]+)/i.exec(line);
  return match ? { lsn: match[2]!, totalLength: Number(match[1]) } : undefined;
}

/** Page header sizes (access/xlog_internal.h): the first page of a segment has the long header. */
const SHORT_PAGE_HEADER = 24;
const LONG_PAGE_HEADER = 40;
const MAXALIGN = 8n;

/**
 * Where a record of `totalLength` bytes starting at `start` ends: its bytes run on across page
 * boundaries, skipping each page header, and the next record starts MAXALIGNed after it.
 */
export function recordEnd(start: bigint, totalLength: number, layout: WalLayout): bigint {
  const block = BigInt(layout.blockSize);
  const segment = BigInt(layout.segmentSize);
  let position = start;
  let remaining = BigInt(totalLength);
  for (;;) {
    const pageEnd = (position / block + 1n) * block;
    const chunk = remaining < pageEnd - position ? remaining : pageEnd - position;
    position += chunk;
    remaining -= chunk;
    if (remaining === 0n) break;
    position = pageEnd + BigInt(pageEnd % segment === 0n ? LONG_PAGE_HEADER : SHORT_PAGE_HEADER);
  }
  return ((position + MAXALIGN - 1n) / MAXALIGN) * MAXALIGN;
}
