import { z } from 'zod';
import { duration, WAIT } from './duration-schema.js';
import { restoresService } from './restores-service.js';
import { needs } from './target-needs.js';
import { manualFields } from './manual-schema.js';

/**
 * The full-disk parts of the scenario format (issue 12, "Disks"): the WAL and data volumes of the
 * primary, the `disk-full` and `wal-archive-stuck` faults, and the `free-space`, `pg-restart` and
 * `fix-archiving` steps. Kept apart from schema.ts
 * (which composes them) so this vocabulary reads in one place.
 */

const sizeMiB = z.number().int().min(8).max(1024);
/** walVolume.sizeMiB when the scenario does not say (the cross-key rules read the file before defaults apply). */
export const DEFAULT_WAL_VOLUME_MIB = 32;

export const walVolume = z
  .strictObject({
    sizeMiB: sizeMiB.default(DEFAULT_WAL_VOLUME_MIB).meta({ description: 'Size of the volume in MiB (8 to 1024)' }),
  })
  .meta({
    description:
      'native provider only: the primary\'s WAL (pg_wal) on a tmpfs of this size that the drill mounts under its temp directory (needs root), ' +
      'with 1 MiB WAL segments and max_wal_size half the volume, so a small volume behaves like a production WAL disk; what a disk-full fault fills',
  });

/** dataVolume.sizeMiB when the scenario does not say: the data set, the catalogs and room to write. */
export const DEFAULT_DATA_VOLUME_MIB = 64;

export const dataVolume = z
  .strictObject({
    sizeMiB: z.number().int().min(48).max(4096).default(DEFAULT_DATA_VOLUME_MIB).meta({ description: 'Size of the volume in MiB (48 to 4096: an initialised cluster alone takes about 40 MiB)' }),
  })
  .meta({
    description:
      'native provider only: the primary\'s data directory on a tmpfs of this size that the drill mounts (needs root); pg_wal is kept off it ' +
      '(on walVolume when there is one, else in a directory of the drill\'s temp root), as on a server with separate data and WAL disks, so a full data volume ' +
      'makes writes fail with ERROR "could not extend file" rather than a PANIC; what a disk-full fault with volume: data fills',
  });

/** The volumes a disk-full fault fills and free-space frees, and the target key each needs. */
export const VOLUME_KEYS = { wal: 'walVolume', data: 'dataVolume' } as const;
const volumeName = z.enum(['wal', 'data']);

const stepBase = { timeout: duration(WAIT).default(600_000), title: z.string().optional(), ...manualFields, restoresService };

export const diskFullFault = needs(
  z
    .strictObject({
      type: z.literal('disk-full'),
      volume: volumeName.default('wal').meta({ description: 'The volume to fill: wal (targets.postgres.walVolume) or data (targets.postgres.dataVolume)' }),
      failWithin: duration(WAIT)
        .default(30_000)
        .meta({ description: 'Once the volume is full, the injector writes (WAL, or table rows on the data volume) until a write fails; no failure within this is an environment failure (exit 3)' }),
    })
    .meta({
      description:
        'Fills a volume of the primary with a filler file, then writes until PostgreSQL refuses. wal: it PANICs ("could not write to file \\"pg_wal/xlogtemp…\\": No space left on device") ' +
        'and its crash recovery fails the same way, so the server stays down. data: the server stays up and every write that needs a new page fails with ' +
        'ERROR "could not extend file …: No space left on device" (reads go on). T_fault: the start of the last write that still succeeded',
    }),
  'postgres',
);

export const walArchiveStuckFault = needs(
  z
    .strictObject({
      type: z.literal('wal-archive-stuck'),
      failWithin: duration(WAIT)
        .default(60_000)
        .meta({ description: 'Once archiving fails, the injector writes WAL until a write fails; no failure within this is an environment failure (exit 3)' }),
    })
    .meta({
      description:
        'WAL archiving breaks (archive_command copies into a directory that is gone, set with ALTER SYSTEM so a restart keeps it): segments that are not archived are never removed, ' +
        'WAL piles up on the primary\'s WAL volume until it is full and PostgreSQL PANICs as with disk-full. T_fault: the start of the last write that still succeeded',
    }),
  'postgres',
);

export const fixArchivingStep = needs(
  z
    .strictObject({
      step: z.literal('fix-archiving'),
      archiveWithin: duration(WAIT).default(120_000).meta({ description: 'How long the archiver may take to copy every waiting segment' }),
      ...stepBase,
    })
    .meta({
      description:
        'archive_command back to the configured one (ALTER SYSTEM RESET, reload), wait until no segment waits to be archived, CHECKPOINT; postcondition: none waits and pg_wal is smaller than before',
    }),
  'postgres',
);

export const freeSpaceStep = needs(
  z
    .strictObject({
      step: z.literal('free-space'),
      volume: volumeName.default('wal').meta({ description: 'The volume to free: wal (targets.postgres.walVolume) or data (targets.postgres.dataVolume)' }),
      how: z
        .enum(['remove-filler', 'grow'])
        .default('remove-filler')
        .meta({ description: 'remove-filler: delete what filled the volume; grow: give the volume a new size (remount size=, as resizing a cloud disk)' }),
      growToMiB: z.number().int().min(8).max(4096).optional().meta({ description: 'grow only: the new size in MiB (default: twice the current size)' }),
      ...stepBase,
    })
    .meta({ description: 'Free space on the full volume; postcondition: at least 2 MiB (two WAL segments, or 256 pages of the data directory) free' }),
  'postgres',
);

export const pgRestartStep = needs(
  z
    .strictObject({ step: z.literal('pg-restart'), ...stepBase })
    .meta({
      description:
        'Start the application\'s database server again (a clean stop first if it still runs): crash recovery runs; postcondition: it accepts a write. ' +
        'A server that does not come up fails the step with its log (e.g. "No space left on device")',
    }),
  'postgres',
);
