import { z } from 'zod';
import { datasetName } from './dataset-refs.js';
import { needs } from './target-needs.js';

/**
 * The disk I/O parts of the scenario format (issue 12, "Disks"): the primary's data directory on
 * drillfs (a FUSE passthrough the drill mounts, tools/drillfs) and the `disk-io-errors` fault it
 * makes possible. Composed by schema.ts.
 */

export const dataPassthrough = z.strictObject({}).meta({
  description:
    'native provider only: the primary\'s data directory on drillfs, a FUSE passthrough of a directory in the drill\'s temp root that the drill mounts ' +
    '(needs root, /dev/fuse and the drillfs npm run setup builds); pg_wal is kept off it. What disk-io-errors acts on',
});

// No write-only variant: a data file's writes reach the disk only at a checkpoint or from the
// background writer, later and outside any session, so the drill could not confirm such a fault is
// in effect (nothing fails where it can look). rw is confirmed by its reads failing.
const ops = z.enum(['read', 'rw']);

export const diskIoErrorsFault = needs(
  z
    .strictObject({
      type: z.literal('disk-io-errors'),
      table: datasetName('table').meta({ description: 'Table of the drill data set whose data file returns EIO' }),
      ops: ops.default('read').meta({ description: 'Which operations on the file fail: read (default) or rw (reads and writes; confirmed by a failing read). No write-only variant: its effect could not be confirmed' }),
    })
    .meta({
      description:
        'The disk returns EIO for the table\'s data file (every segment of its main fork): the server is restarted with the rule in place, so nothing of the table is cached, ' +
        'and every read of it fails with ERROR "could not read block … Input/output error". T_fault: the server back with the rule',
    }),
  'postgres',
);
