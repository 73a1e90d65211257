import { lstat } from 'node:fs/promises';
import { hashFile } from './evidence-manifest.js';

/**
 * Which bytes a file holds, without reading them: device, inode, size, and the modification and
 * change times in nanoseconds. Every write changes mtime and ctime, and ctime cannot be set back
 * from user space (setting mtime back changes ctime), so while all five are the same the content
 * is the same as when they were taken (what make, rsync and git's index rely on).
 *
 * The kernel stamps those times from a coarse clock (a tick of a few ms): a write in the same
 * tick as the stamp already there would leave both as they are. So an identity is only taken of a
 * file whose ctime is well in the past (SETTLED_MS) when it is read; a file still being written
 * gets none, and whoever uses identities then reads the file.
 */
export interface FileIdentity {
  dev: string;
  ino: string;
  size: number;
  mtimeNs: string;
  ctimeNs: string;
}

/**
 * How long ago a file must have changed last for its identity to be taken: 25 ticks of a 250 Hz
 * kernel (the coarse clock lags the real one by at most a tick), so any later write stamps a
 * later ctime.
 */
export const SETTLED_MS = 100;

export async function fileIdentity(file: string): Promise<FileIdentity> {
  const s = await lstat(file, { bigint: true });
  return { dev: String(s.dev), ino: String(s.ino), size: Number(s.size), mtimeNs: String(s.mtimeNs), ctimeNs: String(s.ctimeNs) };
}

export function sameIdentity(a: FileIdentity, b: FileIdentity): boolean {
  return a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs;
}

/**
 * sha256 and size of a file, and its identity when it held still: settled before the read began
 * and the same after it. Without an identity, the digest is still the file's as read.
 */
export async function hashFileWithIdentity(file: string, now: () => number = Date.now): Promise<{ sha256: string; size: number; identity?: FileIdentity }> {
  const readAt = now();
  const before = await fileIdentity(file);
  const digest = await hashFile(file);
  const after = await fileIdentity(file);
  const settled = Number(BigInt(before.ctimeNs) / 1_000_000n) <= readAt - SETTLED_MS;
  const held = sameIdentity(before, after) && after.size === digest.size;
  return settled && held ? { ...digest, identity: after } : digest;
}

/**
 * A digest taken earlier (in this run, by this harness), reused when the file still has the
 * identity it had then; otherwise the file is read again.
 */
export interface KnownDigest {
  sha256: string;
  size: number;
  identity: FileIdentity;
}

export async function hashFileReusing(file: string, known: KnownDigest | undefined): Promise<{ sha256: string; size: number; reused: boolean }> {
  if (known) {
    const current = await fileIdentity(file).catch(() => undefined);
    if (current && sameIdentity(current, known.identity) && current.size === known.size) return { sha256: known.sha256, size: known.size, reused: true };
  }
  return { ...(await hashFile(file)), reused: false };
}
