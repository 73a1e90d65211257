import type { DrillContext } from '../engine/drill-context.js';
import { EnvironmentError, StepFailedError } from '../engine/errors.js';
import type { RecoveryStep } from '../scenario/schema.js';

type FreeSpace = Extract<RecoveryStep, { step: 'free-space' }>;

const MIB = 1024 * 1024;
/**
 * Two WAL segments of the WAL volume (1 MiB each): enough for crash recovery's end-of-recovery
 * checkpoint and the first writes; on the data volume, 256 pages for the relations to grow into.
 */
const MIN_FREE_BYTES = 2 * MIB;

/**
 * Free space on the full volume (WAL or data), as an operator would: remove what filled it, or
 * grow the volume (a tmpfs remounted with a larger size=, as resizing a cloud disk). It does not
 * start the server: a PostgreSQL that PANICked on a full WAL disk has shut down, and `pg-restart`
 * brings it back (one whose data disk filled still runs, and writes work again once there is room).
 * Postcondition: at least 2 MiB free.
 */
export async function freeSpace(ctx: DrillContext, step: FreeSpace): Promise<Record<string, unknown>> {
  const instance = ctx.router.current;
  const volume = step.volume === 'data' ? instance.dataVolume : instance.walVolume;
  if (!volume) {
    const what = step.volume === 'data' ? 'data directory' : 'WAL';
    throw new EnvironmentError(
      'DISK_VOLUME_MISSING',
      `free-space needs ${instance.name}'s ${what} on a volume the drill created; add targets.postgres.${step.volume === 'data' ? 'dataVolume' : 'walVolume'} with provider: native`,
    );
  }
  const before = volume.usage();
  let freedBytes = 0;
  if (step.how === 'remove-filler') {
    freedBytes = volume.removeFiller();
  } else {
    const target = step.growToMiB !== undefined ? step.growToMiB * MIB : before.sizeBytes * 2;
    if (target <= before.sizeBytes) {
      throw new StepFailedError('VOLUME_NOT_GROWN', `free-space grow: ${target / MIB} MiB is not larger than the volume's ${Math.round(before.sizeBytes / MIB)} MiB; give a larger growToMiB`);
    }
    await volume.grow(target);
  }
  const after = volume.usage();
  const output = { instance: instance.name, volume: volume.path, volumeName: step.volume, how: step.how, freedBytes, sizeBytes: after.sizeBytes, freeBytesBefore: before.freeBytes, freeBytesAfter: after.freeBytes };
  if (after.freeBytes < MIN_FREE_BYTES) {
    throw new StepFailedError(
      'NO_SPACE_FREED',
      `free-space (${step.how}) left ${after.freeBytes} bytes free on ${volume.path}, fewer than the ${MIN_FREE_BYTES} PostgreSQL needs to recover (${step.volume === 'data' ? '256 pages for its tables to grow into' : 'two WAL segments'})`,
    );
  }
  return output;
}
