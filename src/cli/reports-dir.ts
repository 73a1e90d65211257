// eslint-disable-next-line no-restricted-imports -- a write check inside the reports dir, removed at once; no run ledger exists yet
import { mkdir, mkdtemp, rmdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { EnvironmentError, InputError, type DrillError } from '../engine/errors.js';

/**
 * `--reports-dir`: checked (created, and written to once) before any drill starts, so a bad value
 * is an input error with nothing started rather than a stack trace after provisioning.
 *
 * Which exit code: a path that cannot be a directory you may write to (a file in the way, too long,
 * no permission, a read-only file system) is the value of a flag the user chose, so invalid input
 * (exit 2, DESIGN.md section 6). A machine that fails the write itself (disk full, I/O error, quota)
 * is an environment failure (exit 3): the same flag works once the machine is fixed.
 */
export async function prepareReportsDir(dir: string): Promise<string> {
  const absolute = path.resolve(dir);
  try {
    await mkdir(absolute, { recursive: true });
    const stats = await stat(absolute);
    if (!stats.isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    // A write, not access(W_OK): root passes access checks on directories it still cannot write
    // (read-only mounts), and a full disk only shows when writing.
    await rmdir(await mkdtemp(path.join(absolute, '.drill-write-check-')));
  } catch (error) {
    throw reportsDirError(error, dir);
  }
  return absolute;
}

/** A file-system error on the reports directory (or a run directory in it) as a typed error. */
export function reportsDirError(error: unknown, dir: string): DrillError {
  const code = (error as NodeJS.ErrnoException).code ?? '';
  // A path of thousands of characters is itself the problem; its ends are enough to recognise it.
  const shown = dir.length > 160 ? `${dir.slice(0, 100)}…${dir.slice(-40)} (${dir.length} characters)` : dir;
  const where = `--reports-dir ${shown}`;
  const fix = 'give a directory you can write to (default: reports)';
  const input = (why: string) => new InputError('REPORTS_DIR_INVALID', `${where}: ${why}; ${fix}. Nothing was started.`);
  switch (code) {
    case 'ENOTDIR':
    case 'EEXIST':
      return input('is a file, or a path through a file, not a directory');
    case 'ENAMETOOLONG':
      return input('the path is too long for this file system');
    case 'ELOOP':
      return input('the path is a loop of symbolic links');
    case 'EACCES':
    case 'EPERM':
      return input('permission denied');
    case 'EROFS':
      return input('is on a read-only file system');
    default:
      return new EnvironmentError(
        'REPORTS_DIR_UNWRITABLE',
        `${where}: cannot write there (${code || (error as Error).message}); check free space and the file system, then run again. Nothing was started.`,
      );
  }
}
