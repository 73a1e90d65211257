import createDebug from 'debug';
import type { DrillContext, FaultHandle } from '../engine/drill-context.js';
import { EnvironmentError } from '../engine/errors.js';
import { requireDrillTarget } from '../engine/require-drill-target.js';
import type { Fault } from '../scenario/schema.js';
import type { PgInstance } from '../targets/postgres/types.js';
import type { IoFaultControl, IoRule } from '../targets/process/drillfs-mount.js';
import { withClient } from '../targets/postgres/with-client.js';
import { quoteIdent } from '../targets/postgres/sql-names.js';
import { editWithServerStopped, locateRelation, requireDataDir } from './relation-pages.js';

const debug = createDebug('drill:inject');

type DiskIoErrors = Extract<Fault, { type: 'disk-io-errors' }>;

const READ_ERROR = /could not read block \d+ in file .*Input\/output error/;

/** The instance's drillfs control, or the exit-3 error saying how to get one. */
function ioFaultsOf(instance: PgInstance, what: string): IoFaultControl {
  if (instance.ioFaults) return instance.ioFaults;
  throw new EnvironmentError(
    'DISK_PASSTHROUGH_MISSING',
    `${what} needs ${instance.name}'s data directory on drillfs; add targets.postgres.dataPassthrough: {} with provider: native (only the primary created at provisioning has it)`,
  );
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * A disk that returns EIO for one table's data file (a failing sector, a flaky controller): the
 * rule is set with the server stopped and the server started again, so no page of the table is in
 * shared buffers and the next read goes to the disk. Every read of the table then fails with
 * ERROR "could not read block N in file "base/…": Input/output error"; other tables work. The
 * injector checks that before it returns. T_fault: the server back with the rule.
 */
export async function injectDiskIoErrors(ctx: DrillContext, fault: DiskIoErrors): Promise<FaultHandle> {
  const what = 'disk-io-errors';
  requireDrillTarget(ctx, what);
  const instance = requireDataDir(ctx, what);
  const control = ioFaultsOf(instance, what);
  const relation = await locateRelation(ctx.router.connection, instance, fault.table, 'table', what);
  const rule: IoRule = { pattern: `^${escape(relation.relfile)}(\\.[0-9]+)?$`, ops: fault.ops, action: 'eio' };
  const { inEffectAt } = await editWithServerStopped(ctx, instance, () => control.setRules([rule]));
  // Confirmed by a read that fails with EIO (every variant fails reads: see disk-io-schema.ts).
  const error = await withClient(ctx.router.connection, (c) => c.query(`select count(*) from ${quoteIdent(fault.table)}`)).then(
    () => undefined,
    (e: unknown) => (e instanceof Error ? e.message : String(e)),
  );
  if (!error || !READ_ERROR.test(error)) {
    await control.setRules([]);
    throw new EnvironmentError('FAULT_NOT_IN_EFFECT', `${what}: a read of "${fault.table}" on ${instance.name} did not fail with an I/O error (${error ?? 'it succeeded'}); the rule was removed`);
  }
  const { hits } = await control.state();
  debug('%s: EIO on %s (%s): %s', instance.name, relation.relfile, fault.ops, error);
  return {
    description: `disk I/O errors: ${fault.ops === 'read' ? 'reads' : 'reads and writes'} of ${fault.table} (${relation.relfile}) on ${instance.name} fail with EIO: ${error}`,
    details: { instance: instance.name, table: fault.table, file: relation.relfile, ops: fault.ops, rule, firstError: error, hits },
    inEffectAt,
    async [Symbol.asyncDispose]() {
      await control.setRules([]).catch(() => undefined);
    },
  };
}
