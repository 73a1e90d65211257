import { existsSync } from 'node:fs';
import { mkdir, readdir, rename } from 'node:fs/promises';
import path from 'node:path';
import createDebug from 'debug';
import type { DrillContext, FaultHandle } from '../engine/drill-context.js';
import { EnvironmentError } from '../engine/errors.js';
import type { Fault } from '../scenario/schema.js';
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
 * directory (removed with the deployment), so disposing the handle can put them back.
 */
export async function injectRelationFileDeleted(ctx: DrillContext, fault: RelationFileDeleted): Promise<FaultHandle> {
  const what = 'pg-relation-file-deleted';
  requireDrillTarget(ctx, what);
  const instance = requireDataDir(ctx, what);
  const conn = ctx.router.connection;
  const relation = await locateRelation(conn, instance, fault.table, 'table', what);
  const point = await markBeforeFault(ctx, conn);
  const stash = path.join(path.dirname(instance.dataDir), 'drill-removed-files');

  const { result: moved, inEffectAt } = await editWithServerStopped(ctx, instance, async () => {
    const segments = await mainForkSegments(relation.file);
    if (segments.length === 0) {
      throw new EnvironmentError('FAULT_NOT_IN_EFFECT', `${what}: ${relation.relfile} of "${fault.table}" was not on disk to remove; nothing was changed`);
    }
    await mkdir(stash, { recursive: true });
    const done: Array<{ from: string; to: string }> = [];
    for (const file of segments) {
      const to = path.join(stash, path.relative(instance.dataDir, file).replaceAll(path.sep, '_'));
      await rename(file, to);
      done.push({ from: file, to });
    }
    return done;
  });
  debug('moved %d segment(s) of %s out of %s', moved.length, relation.relfile, instance.dataDir);

  return {
    description: `data file of ${fault.table} removed on ${instance.name}`,
    details: {
      table: fault.table,
      file: relation.relfile,
      segments: moved.map((m) => path.relative(instance.dataDir, m.from)),
      instance: instance.name,
      restorePointLsn: point.lsn,
    },
    inEffectAt,
    // Moving a file back under a running server is safe: PostgreSQL keeps no handle to a file it could not open.
    async [Symbol.asyncDispose]() {
      for (const { from, to } of moved) {
        if (existsSync(to) && !existsSync(from) && existsSync(path.dirname(from))) await rename(to, from);
      }
    },
  };
}

/** Segment 0 of the main fork and its 1 GiB successors (`16384`, `16384.1`, …); not the _fsm/_vm forks. */
async function mainForkSegments(file: string): Promise<string[]> {
  const base = path.basename(file);
  const names = await readdir(path.dirname(file));
  return names
    .filter((n) => n === base || new RegExp(`^${base}\\.\\d+$`).test(n))
    .sort((a, b) => Number(a.split('.')[1] ?? 0) - Number(b.split('.')[1] ?? 0))
    .map((n) => path.join(path.dirname(file), n));
}
