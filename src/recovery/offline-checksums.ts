import path from 'node:path';
import createDebug from 'debug';
import type { DrillContext } from '../engine/drill-context.js';
import { EnvironmentError, StepFailedError } from '../engine/errors.js';
import type { PgInstance } from '../targets/postgres/types.js';

const debug = createDebug('drill:recovery');

export interface OfflineChecksumReport {
  /** False when the instance could not be checked (no reachable data directory, no pg_checksums beside it). */
  checked: boolean;
  reason?: string;
  blocksScanned?: number;
  /** Pages whose checksum fails: file relative to the data directory, and block within that file. */
  badBlocks: Array<{ file: string; block: number }>;
}

/** What `pg_checksums --check` printed: each failing page and the totals. */
export function parsePgChecksumsOutput(output: string, dataDir: string): { badBlocks: OfflineChecksumReport['badBlocks']; blocksScanned?: number; badCount?: number } {
  const badBlocks = [...output.matchAll(/checksum verification failed in file "([^"]+)", block (\d+)/g)].map((m) => ({
    file: path.isAbsolute(m[1]!) ? path.relative(dataDir, m[1]!) : m[1]!,
    block: Number(m[2]),
  }));
  const scanned = /Blocks scanned:\s+(\d+)/.exec(output)?.[1];
  const bad = /Bad checksums:\s+(\d+)/.exec(output)?.[1];
  return { badBlocks, ...(scanned ? { blocksScanned: Number(scanned) } : {}), ...(bad ? { badCount: Number(bad) } : {}) };
}

/**
 * Offline page checksum verification (`pg_checksums --check`), which reads every page of every
 * relation, where amcheck and the server only read what queries touch. pg_checksums needs the
 * cluster cleanly shut down, so the instance is stopped for it and started again. It runs where
 * the data directory is: on this machine, or in the instance's container (with the image's own
 * pg_checksums, which matches its server).
 */
export async function checkChecksumsOffline(instance: PgInstance): Promise<OfflineChecksumReport> {
  const directory = instance.dataDirectory;
  if (!directory) return { checked: false, reason: `${instance.name} is reached only over SQL, its data directory is out of reach`, badBlocks: [] };
  if (!(await directory.hasTool('pg_checksums'))) return { checked: false, reason: `there is no pg_checksums beside ${directory.location}`, badBlocks: [] };
  const wasRunning = await instance.isRunning();
  if (wasRunning) await instance.stop();
  try {
    const result = await directory.runTool('pg_checksums', ['--check', '-D', directory.path], [0, 1]);
    const output = `${result.stdout}\n${result.stderr}`;
    const parsed = parsePgChecksumsOutput(output, directory.path);
    // Exit 1 without a count is pg_checksums refusing to run (e.g. not shut down cleanly), not a verdict.
    if (result.code !== 0 && parsed.badCount === undefined) {
      throw new EnvironmentError('PG_CHECKSUMS_FAILED', `pg_checksums --check could not check ${instance.name}: ${output.trim().slice(-1000)}`);
    }
    debug('pg_checksums %s: %d bad of %s blocks', instance.name, parsed.badBlocks.length, parsed.blocksScanned);
    return { checked: true, blocksScanned: parsed.blocksScanned, badBlocks: parsed.badBlocks };
  } finally {
    if (wasRunning) await instance.start();
  }
}

/**
 * Restore verification: every page of the restored instance must pass its checksum before the
 * application is moved to it. A failing page means the backup carried the corruption.
 */
export async function requireSoundChecksums(ctx: DrillContext, instance: PgInstance, backupId: string): Promise<OfflineChecksumReport> {
  const report = await checkChecksumsOffline(instance);
  // Verification was asked for: one that cannot run is never reported as done.
  if (!report.checked) {
    throw new EnvironmentError(
      'VERIFY_UNAVAILABLE',
      `page checksums of ${instance.name} cannot be verified offline (${report.reason}); use provider: native or testcontainers, ` +
        'install pg_checksums, or set verify: false on the step',
    );
  }
  if (report.badBlocks.length > 0) {
    const shown = report.badBlocks.slice(0, 5).map((b) => `${b.file} block ${b.block}`).join(', ');
    throw new StepFailedError(
      'RESTORED_CHECKSUM_FAILURE',
      `${instance.name}, restored from ${backupId}, has ${report.badBlocks.length} page(s) whose checksum fails (${shown}): the backup carries the corruption. ` +
        'Restore a backup from before the damage (backup: before-fault) instead of moving the application to it.',
    );
  }
  return report;
}
