import { chownSync, constants, existsSync, mkdirSync, rmSync, statfsSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import createDebug from 'debug';
import { EnvironmentError } from '../../engine/errors.js';
import type { ResourceLedger } from '../../engine/resource-ledger.js';
import { currentMounts } from './mounts.js';
import { runCommand, type RunAs } from './run-command.js';

const debug = createDebug('drill:disk');

/** What a full-disk fault and its recovery need of a size-limited volume. */
export interface SizedVolume {
  /** Where it is mounted. */
  readonly path: string;
  /** Size, used and free bytes as the file system reports them (statfs). */
  usage(): VolumeUsage;
  /**
   * Writes a filler file until the file system refuses more (ENOSPC); returns its size. Chunked
   * asynchronous writes: a 1 GiB volume must not stall the drill's probes and canary meanwhile.
   */
  fill(): Promise<{ fillerPath: string; bytes: number }>;
  /** Removes the filler; returns the bytes it held (0 when there was none). */
  removeFiller(): number;
  /** Gives the file system a new size (remount with size=), as growing a cloud volume would. */
  grow(sizeBytes: number): Promise<void>;
}

export interface VolumeUsage {
  sizeBytes: number;
  usedBytes: number;
  freeBytes: number;
}

const CHUNK = Buffer.alloc(1024 * 1024);

/**
 * A tmpfs with a size limit that a drill mounts under its own temp directory and records in the
 * ledger (kind `mount`) before mounting, so a killed drill's volume is unmounted by the reaper.
 * Its source name (`drill-<run>-<name>`) is what the reaper checks before it unmounts anything.
 * Needs root (mount(2)); the caller says so with an exit-3 error when it is not.
 */
export class TmpfsVolume implements SizedVolume {
  private constructor(
    readonly path: string,
    readonly source: string,
  ) {}

  get fillerPath(): string {
    return path.join(this.path, 'drill-filler');
  }

  static async create(options: { path: string; sizeBytes: number; source: string; ledger: ResourceLedger; runAs?: RunAs }): Promise<TmpfsVolume> {
    if (process.getuid?.() !== 0) {
      throw new EnvironmentError(
        'MOUNT_NEEDS_ROOT',
        `a size-limited volume (tmpfs at ${options.path}) must be mounted, which needs root; run the drill as root or drop the disk fault (README: "Disks (full WAL volume)")`,
      );
    }
    mkdirSync(options.path, { recursive: true, mode: 0o700 });
    // In the ledger before it exists: a kill between the two leaves an entry the reaper finds absent.
    options.ledger.record({ kind: 'mount', path: options.path, source: options.source });
    await runCommand('mount', ['-t', 'tmpfs', '-o', `size=${options.sizeBytes},mode=0700`, options.source, options.path]);
    if (options.runAs) chownSync(options.path, options.runAs.uid, options.runAs.gid);
    debug('mounted tmpfs %s at %s (%d bytes)', options.source, options.path, options.sizeBytes);
    return new TmpfsVolume(options.path, options.source);
  }

  usage(): VolumeUsage {
    const s = statfsSync(this.path);
    const sizeBytes = s.blocks * s.bsize;
    const freeBytes = s.bavail * s.bsize;
    return { sizeBytes, usedBytes: sizeBytes - s.bfree * s.bsize, freeBytes };
  }

  async fill(): Promise<{ fillerPath: string; bytes: number }> {
    // Not mounted any more (unmounted by hand, or another file system there): the path is then a
    // directory of the machine's own file system, which filling would fill for everyone.
    this.requireMounted('fill it');
    // Owned by root: like a log file another program left on the volume, PostgreSQL cannot remove it.
    // O_NOFOLLOW: the volume belongs to the PostgreSQL user, who could leave a symlink at this name.
    const file = await open(this.fillerPath, constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND | constants.O_NOFOLLOW, 0o600);
    try {
      for (;;) {
        try {
          const { bytesWritten } = await file.write(CHUNK);
          if (bytesWritten < CHUNK.length) break;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw error;
        }
      }
    } finally {
      await file.close();
    }
    const bytes = statSync(this.fillerPath).size;
    debug('filler %s: %d bytes, %d free', this.fillerPath, bytes, this.usage().freeBytes);
    return { fillerPath: this.fillerPath, bytes };
  }

  removeFiller(): number {
    if (!existsSync(this.fillerPath)) return 0;
    const bytes = statSync(this.fillerPath).size;
    rmSync(this.fillerPath, { force: true });
    return bytes;
  }

  async grow(sizeBytes: number): Promise<void> {
    // A remount of whatever is mounted there now would resize a file system that is not the drill's.
    this.requireMounted('grow it');
    await runCommand('mount', ['-o', `remount,size=${sizeBytes}`, this.path]);
  }

  /** Whether it is still mounted (by source and path, as the reaper checks). */
  mounted(): boolean {
    return currentMounts().some((m) => m.path === this.path && m.fstype === 'tmpfs' && m.source === this.source);
  }

  private requireMounted(what: string): void {
    if (this.mounted()) return;
    throw new EnvironmentError(
      'DISK_VOLUME_GONE',
      `the drill's volume ${this.source} is no longer mounted at ${this.path}, so the drill did not ${what} (it would act on whatever file system is there now); ` +
        'find out what unmounted it (nothing else may touch a drill\'s volume while it runs) and run the drill again',
    );
  }

  /** Unmounts it (lazily when busy); its contents go with it. */
  async unmount(): Promise<void> {
    if (!this.mounted()) return;
    await runCommand('umount', [this.path]).catch(() => runCommand('umount', ['--lazy', this.path]));
  }
}
