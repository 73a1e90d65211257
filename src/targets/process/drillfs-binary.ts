import { existsSync } from 'node:fs';
import path from 'node:path';
import { drillCacheDir } from '../../engine/cache-dir.js';
import { EnvironmentError } from '../../engine/errors.js';

/** The drillfs tools/build-drillfs.sh builds (tools/drillfs: a FUSE passthrough that fails or delays I/O on request). */
export const DRILLFS_VERSION = 'v0.1.0';

/** The version wanted: `$DRILL_DRILLFS_VERSION` (as the build script takes it), else the pinned one. */
export function drillfsVersion(env: NodeJS.ProcessEnv = process.env): string {
  return env.DRILL_DRILLFS_VERSION || DRILLFS_VERSION;
}

/** `${DRILL_CACHE_DIR:-~/.cache/drill}/drillfs/<version>/bin/drillfs`, where tools/build-drillfs.sh puts it. */
export function drillfsBinary(env: NodeJS.ProcessEnv = process.env): string {
  const cache = drillCacheDir(env);
  return path.join(cache, 'drillfs', drillfsVersion(env), 'bin', 'drillfs');
}

/**
 * What disk I/O faults need of the machine: the FUSE device, FUSE in the kernel, root (the mount
 * is made with mount(2): no fusermount), and the built drillfs. The do-this error (exit 3) otherwise.
 */
export function requireDrillfs(env: NodeJS.ProcessEnv = process.env, fuseDevice = '/dev/fuse'): string {
  if (!existsSync(fuseDevice)) {
    throw new EnvironmentError(
      'FUSE_MISSING',
      `disk I/O faults (targets.postgres.dataPassthrough) mount a FUSE file system, and ${fuseDevice} does not exist; load the fuse module (modprobe fuse) or, in a container, pass the device (--device /dev/fuse --cap-add SYS_ADMIN)`,
    );
  }
  if (process.getuid?.() !== 0) {
    throw new EnvironmentError('MOUNT_NEEDS_ROOT', 'disk I/O faults (targets.postgres.dataPassthrough) mount a FUSE file system, which needs root; run the drill as root or drop the disk I/O fault');
  }
  const program = drillfsBinary(env);
  if (!existsSync(program)) {
    throw new EnvironmentError(
      'DRILLFS_MISSING',
      `disk I/O faults need drillfs ${drillfsVersion(env)}, which is not built at ${program}; run npm run setup (tools/build-drillfs.sh builds it from Go modules; Go 1.23+)`,
    );
  }
  return program;
}
