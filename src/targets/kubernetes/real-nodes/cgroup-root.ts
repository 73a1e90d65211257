import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import createDebug from 'debug';
import { sleep } from '../../../engine/clock.js';
import { EnvironmentError } from '../../../engine/errors.js';

const debug = createDebug('drill:k8s');

/**
 * The cgroup v1 hierarchies mounted on this machine (mount points), from /proc/self/mountinfo.
 * cgroup v2 (a unified mount) has no controllers here and is left alone.
 */
export function cgroupV1Mounts(mountinfo = readFileSync('/proc/self/mountinfo', 'utf8')): string[] {
  const mounts: string[] = [];
  for (const line of mountinfo.split('\n')) {
    const [left, right] = line.split(' - ');
    if (!left || !right) continue;
    const fsType = right.split(' ')[0];
    if (fsType !== 'cgroup') continue;
    mounts.push(left.split(' ')[4]!);
  }
  return mounts;
}

/**
 * Creates cgroupfs path `cgroupPath` (e.g. /drill/<run>/<node>) in every v1 hierarchy: kubelet
 * puts a node's pods below its `cgroupRoot` and refuses one that does not exist. A new cpuset
 * cgroup is empty; it gets its parent's CPUs and memory nodes, or no task could join it.
 */
export function createCgroupRoot(cgroupPath: string, mounts = cgroupV1Mounts()): void {
  if (mounts.length === 0) throw new EnvironmentError('NO_CGROUP_V1', 'no cgroup v1 hierarchy is mounted; real nodes here need cgroup v1 (cgroupfs driver)');
  for (const mount of mounts) {
    const parts = cgroupPath.split('/').filter(Boolean);
    let dir = mount;
    for (const part of parts) {
      const parent = dir;
      dir = path.join(dir, part);
      if (!existsSync(dir)) mkdirSync(dir);
      for (const file of ['cpuset.cpus', 'cpuset.mems']) {
        const own = path.join(dir, file);
        if (existsSync(own) && readFileSync(own, 'utf8').trim() === '') writeFileSync(own, readFileSync(path.join(parent, file), 'utf8'));
      }
    }
  }
  debug('cgroup root %s created in %d hierarchies', cgroupPath, mounts.length);
}

/**
 * Sets the CPU weight (cgroup v1 `cpu.shares`, default 1024) of cgroupfs path `cgroupPath`, which
 * must exist, in the hierarchy that has the cpu controller. Goes with the cgroup when it is removed.
 */
export function setCpuShares(cgroupPath: string, shares: number, mounts = cgroupV1Mounts()): void {
  for (const mount of mounts) {
    const file = path.join(mount, cgroupPath, 'cpu.shares');
    if (existsSync(file)) writeFileSync(file, String(shares));
  }
  debug('cgroup %s: cpu.shares %d', cgroupPath, shares);
}

/** Directories below `dir`, deepest first, then `dir` itself. */
function depthFirst(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    const child = path.join(dir, entry);
    try {
      if (statSync(child).isDirectory()) out.push(...depthFirst(child));
    } catch {
      /* removed meanwhile */
    }
  }
  out.push(dir);
  return out;
}

/**
 * Removes cgroupfs path `cgroupPath` and everything below it from every v1 hierarchy, once the
 * processes in it are gone (a cgroup with tasks cannot be removed; exiting tasks take a moment).
 * Returns the hierarchies it removed something from.
 */
export async function removeCgroupTree(cgroupPath: string, options: { timeoutMs?: number; mounts?: string[] } = {}): Promise<string[]> {
  if (!cgroupPath.split('/').some(Boolean)) throw new Error('refusing to remove the root cgroup');
  const removedFrom: string[] = [];
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  for (const mount of options.mounts ?? cgroupV1Mounts()) {
    const top = path.join(mount, cgroupPath);
    if (!existsSync(top)) continue;
    for (;;) {
      let busy: string | undefined;
      for (const dir of depthFirst(top)) {
        try {
          rmdirSync(dir);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOENT') busy = dir;
        }
      }
      if (!busy) break;
      if (Date.now() > deadline) {
        throw new EnvironmentError('CGROUP_BUSY', `cgroup ${busy} still has processes after ${(options.timeoutMs ?? 15_000) / 1000}s; see ${path.join(busy, 'tasks')}`);
      }
      await sleep(100);
    }
    removedFrom.push(mount);
  }
  // The parents the drill created (/drill/<run>) go too once empty; someone else's are left.
  return removedFrom;
}
