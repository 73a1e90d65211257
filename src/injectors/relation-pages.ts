import createDebug from 'debug';
import type { DrillContext } from '../engine/drill-context.js';
import { EnvironmentError, InputError } from '../engine/errors.js';
import type { DataDirectory } from '../targets/postgres/data-directory.js';
import { checksumMatches, PAGE_SIZE, PD_CHECKSUM_OFFSET, setPageChecksum } from '../targets/postgres/page-checksum.js';
import type { ConnectionInfo, PgInstance } from '../targets/postgres/types.js';
import { withClient } from '../targets/postgres/with-client.js';
import { startObservingReady } from './server-back.js';

/**
 * What the on-disk faults share: finding a relation's file, stopping the server around an edit
 * (so PostgreSQL's buffers neither hide nor overwrite it), and patching pages in a way that can be
 * reverted exactly. Pages are addressed by block number across 1 GiB segment files, in the data
 * directory wherever it is (this machine, or a container through the engine).
 */

const debug = createDebug('drill:inject');

/** Blocks per segment file (RELSEG_SIZE of a default build: 1 GiB of 8 KiB pages). */
const BLOCKS_PER_SEGMENT = 131072;

export type ReachableInstance = PgInstance & { readonly dataDirectory: DataDirectory };

/** The instance the application uses, which must expose its data directory (native and testcontainers do). */
export function requireDataDir(ctx: DrillContext, what: string): ReachableInstance {
  const instance = ctx.router.current;
  if (!instance.dataDirectory) {
    throw new EnvironmentError(
      'FAULT_NEEDS_DATA_DIR',
      `${what} edits the data directory on disk, and ${instance.name} is reached only over SQL (provider: ${ctx.pg.provider}); ` +
        'use provider: native or testcontainers to drill it',
    );
  }
  return instance as ReachableInstance;
}

export interface RelationFile {
  relation: string;
  /** Segment 0 of the main fork, relative to the data directory (pg_relation_filepath). */
  relfile: string;
  directory: DataDirectory;
  blocks: number;
  /** Whether the cluster has data checksums (then an edited page needs its checksum fixed up or fails reads). */
  dataChecksums: boolean;
}

const RELKIND = { table: "'r'", 'btree index': "'i'" } as const;

/** A table or btree index of the drill database, and where its main fork lives on disk. */
export async function locateRelation(
  conn: ConnectionInfo,
  instance: ReachableInstance,
  name: string,
  kind: keyof typeof RELKIND,
  what: string,
): Promise<RelationFile> {
  const row = await withClient(conn, async (c) => {
    const { rows } = await c.query<{ file: string | null; blocks: string; am: string | null; checksums: string }>(
      `select pg_relation_filepath(c.oid) as file, (pg_relation_size(c.oid) / ${PAGE_SIZE})::text as blocks, am.amname as am,
              current_setting('data_checksums') as checksums
         from pg_class c join pg_namespace n on n.oid = c.relnamespace left join pg_am am on am.oid = c.relam
        where c.relname = $1 and n.nspname = 'public' and c.relkind = ${RELKIND[kind]}`,
      [name],
    );
    return rows[0];
  });
  if (!row?.file || (kind === 'btree index' && row.am !== 'btree')) {
    throw new InputError(
      kind === 'table' ? 'FAULT_TABLE_UNKNOWN' : 'FAULT_INDEX_UNKNOWN',
      `${what}: there is no ${kind} "${name}" in the drill database (public schema); name one of the data set's, e.g. ${kind === 'table' ? 'transfers' : 'transfers_pkey'}`,
    );
  }
  return {
    relation: name,
    relfile: row.file,
    directory: instance.dataDirectory,
    blocks: Number(row.blocks),
    dataChecksums: row.checksums === 'on',
  };
}

/** Runs `fn` with the server cleanly stopped, and starts it again if it was running (even when `fn` throws). */
export async function withServerStopped<T>(instance: PgInstance, fn: () => Promise<T>): Promise<T> {
  const wasRunning = await instance.isRunning();
  if (wasRunning) await instance.stop();
  try {
    return await fn();
  } finally {
    if (wasRunning) await instance.start();
  }
}

/**
 * The fault's own edit: the server stopped around it (with the service probes held, since that
 * outage is the harness's and not the fault's), and the instant the fault was in effect: the
 * server serving again on the edited files, as a lower bound (see startObservingReady). The probes
 * resume only after that instant, so every sample that can see the damage is after T_fault. A
 * server that was not running has the damage in effect once it is on disk.
 */
export async function editWithServerStopped<T>(ctx: DrillContext, instance: PgInstance, fn: () => Promise<T>): Promise<{ result: T; inEffectAt: number }> {
  return ctx.probeGate.holdWhile(async () => {
    const wasRunning = await instance.isRunning();
    if (wasRunning) await instance.stop();
    let result: T;
    try {
      result = await fn();
    } catch (error) {
      if (wasRunning) await instance.start();
      throw error;
    }
    return { result, inEffectAt: wasRunning ? await startObservingReady(instance, ctx.clock) : ctx.clock.now() };
  });
}

/** The segment file holding a block of the relation, and the block's number within that file. */
function locate(relfile: string, block: number): { file: string; block: number } {
  const segment = Math.floor(block / BLOCKS_PER_SEGMENT);
  return { file: segment === 0 ? relfile : `${relfile}.${segment}`, block: block % BLOCKS_PER_SEGMENT };
}

/** One page, or undefined when the file no longer has it (removed, truncated, or rebuilt elsewhere). */
export function readPage(relation: RelationFile, block: number): Promise<Buffer | undefined> {
  const at = locate(relation.relfile, block);
  return relation.directory.readBlock(at.file, at.block);
}

export function writePage(relation: RelationFile, block: number, page: Buffer): Promise<void> {
  const at = locate(relation.relfile, block);
  return relation.directory.writeBlock(at.file, at.block, page);
}

/** Whether the relation's first segment is still where the fault found it (a REINDEX or a restore moves it). */
export function relationFileExists(relation: RelationFile): Promise<boolean> {
  return relation.directory.exists(relation.relfile);
}

/** Bytes of one page the fault changed: enough to check later that they are still ours, and to put them back. */
export interface PagePatch {
  block: number;
  ranges: Array<{ offset: number; original: Buffer; written: Buffer }>;
  /** The edit came with a recomputed checksum, so PostgreSQL reads the page without complaint. */
  checksumFixed: boolean;
}

/**
 * Edits one page in place (server stopped). With `fixChecksum` the page gets the checksum
 * PostgreSQL would give it, after making sure the page verified before: if it did not, our
 * checksum would disagree with the server's and the "silent" damage would not be silent.
 */
export async function patchPage(
  relation: RelationFile,
  block: number,
  edit: (page: Buffer) => void,
  options: { fixChecksum: boolean; what: string },
): Promise<PagePatch> {
  const page = await readPage(relation, block);
  if (!page) throw new InputError('FAULT_BLOCK_OUT_OF_RANGE', `${options.what}: ${relation.relation} has no block ${block}`);
  const fixChecksum = options.fixChecksum && relation.dataChecksums;
  if (fixChecksum && !checksumMatches(page, block)) {
    throw new EnvironmentError(
      'PAGE_CHECKSUM_UNVERIFIED',
      `${options.what}: block ${block} of ${relation.relation} does not verify with the harness's page checksum before the edit, ` +
        'so a fixed-up checksum would not be one PostgreSQL accepts (a big-endian server, or a build with another block size?); use fixChecksum: false',
    );
  }
  const before = Buffer.from(page);
  edit(page);
  const ranges = changedRanges(before, page).map(({ offset, length }) => ({
    offset,
    original: before.subarray(offset, offset + length),
    written: Buffer.from(page.subarray(offset, offset + length)),
  }));
  if (fixChecksum) setPageChecksum(page, block);
  await writePage(relation, block, page);
  debug('patched %d byte range(s) of block %d of %s%s', ranges.length, block, relation.relfile, fixChecksum ? ' (checksum fixed up)' : '');
  return { block, ranges, checksumFixed: fixChecksum };
}

/**
 * Puts back what `patchPage` changed, page by page, where the changed bytes are still the ones the
 * fault wrote; a page the server has rebuilt or that no longer exists is left alone. The checksum
 * is recomputed so the page verifies whatever PostgreSQL wrote there since (hint bits).
 */
export async function revertPatches(relation: RelationFile, patches: readonly PagePatch[]): Promise<{ reverted: number[]; leftAlone: number[] }> {
  const reverted: number[] = [];
  const leftAlone: number[] = [];
  for (const patch of patches) {
    const page = await readPage(relation, patch.block);
    const ours = page !== undefined && patch.ranges.every((r) => page.subarray(r.offset, r.offset + r.written.length).equals(r.written));
    if (!page || !ours) {
      leftAlone.push(patch.block);
      continue;
    }
    for (const r of patch.ranges) r.original.copy(page, r.offset);
    if (relation.dataChecksums) setPageChecksum(page, patch.block);
    await writePage(relation, patch.block, page);
    reverted.push(patch.block);
  }
  debug('reverted blocks %o of %s (left alone: %o)', reverted, relation.relfile, leftAlone);
  return { reverted, leftAlone };
}

/** Runs of differing bytes, ignoring pd_checksum (which the checksum fix-up owns). */
function changedRanges(before: Buffer, after: Buffer): Array<{ offset: number; length: number }> {
  const ranges: Array<{ offset: number; length: number }> = [];
  let start = -1;
  for (let i = 0; i <= before.length; i++) {
    const differs = i < before.length && i !== PD_CHECKSUM_OFFSET && i !== PD_CHECKSUM_OFFSET + 1 && before[i] !== after[i];
    if (differs && start < 0) start = i;
    if (!differs && start >= 0) {
      ranges.push({ offset: start, length: i - start });
      start = -1;
    }
  }
  return ranges;
}

/** Line pointers of a page: pd_lower says where the array ends (24-byte header, 4 bytes each). */
export function lineItemCount(page: Buffer): number {
  return Math.max(0, (page.readUInt16LE(12) - 24) / 4);
}
