import path from 'node:path';
import createDebug from 'debug';
import type { DrillContext, FaultHandle } from '../engine/drill-context.js';
import { EnvironmentError } from '../engine/errors.js';
import type { Fault } from '../scenario/schema.js';
import type { DataDirectory } from '../targets/postgres/data-directory.js';
import { markBeforeFault } from './before-fault-point.js';
import { editWithServerStopped, locateRelation, requireDataDir } from './relation-pages.js';
import { requireDrillTarget } from '../engine/require-drill-target.js';

const debug = createDebug('drill:inject');

type RelationFileDeleted = Extract<Fault, { type: 'pg-relation-file-deleted' }>;

/**
 * A table's data file goes missing (an operator's `rm`, a bad restore script, a filesystem
 * losing a file): with the server stopped, every segment of the table's main fork is moved out
 * of the data directory, then the server starts again. It starts fine; every read of the table
 * then fails with `could not open file "base/…": No such file or directory`.
 *
 * The files are moved, not deleted, into the instance's own directory next to its data
 * directory (removed with the deployment), so disposing the handle can put them back. Works
 * wherever the data directory is reachable (native, and testcontainers through the engine).
 */
export async function injectRelationFileDeleted(ctx: DrillContext, fault: RelationFileDeleted): Promise<FaultHandle> {
  const what = 'pg-relation-file-deleted';
  requireDrillTarget(ctx, what);
  const instance = requireDataDir(ctx, what);
  const conn = ctx.router.connection;
  const relation = await locateRelation(conn, instance, fault.table, 'table', what);
  const point = await markBeforeFault(ctx, conn);
  const directory = instance.dataDirectory;

  const { result: moved, inEffectAt } = await editWithServerStopped(ctx, instance, async () => {
    const segments = await mainForkSegments(directory, relation.relfile);
    if (segments.length === 0) {
      throw new EnvironmentError('FAULT_NOT_IN_EFFECT', `${what}: ${relation.relfile} of "${fault.table}" was not on disk to remove; nothing was changed`);
    }
    const done: Array<{ file: string; aside: string }> = [];
    for (const file of segments) done.push({ file, aside: await directory.moveAside(file) });
    return done;
  });
  debug('moved %d segment(s) of %s out of %s', moved.length, relation.relfile, directory.location);

  return {
    description: `data file of ${fault.table} removed on ${instance.name}`,
    details: {
      table: fault.table,
      file: relation.relfile,
      segments: moved.map((m) => m.file),
      instance: instance.name,
      restorePointLsn: point.lsn,
    },
    inEffectAt,
    // Moving a file back under a running server is safe: PostgreSQL keeps no handle to a file it could not open.
    async [Symbol.asyncDispose]() {
      for (const { file, aside } of moved) await directory.putBack(file, aside);
    },
  };
}

/** Segment 0 of the main fork and its 1 GiB successors (`16384`, `16384.1`, …), relative paths; not the _fsm/_vm forks. */
async function mainForkSegments(directory: DataDirectory, relfile: string): Promise<string[]> {
  const dir = path.posix.dirname(relfile);
  const base = path.posix.basename(relfile);
  const names = await directory.list(dir);
  return names
    .filter((n) => n === base || new RegExp(`^${base}\\.\\d+$`).test(n))
    .sort((a, b) => Number(a.split('.')[1] ?? 0) - Number(b.split('.')[1] ?? 0))
    .map((n) => path.posix.join(dir, n));
}
