import { existsSync, readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import createDebug from 'debug';
import { sleep } from '../../engine/clock.js';
import { runCommand } from '../process/run-command.js';
import { unmountUnder } from '../process/mounts.js';
import { shimSocketPath, shimsOf } from './shim-processes.js';

const debug = createDebug('drill:containerd');

/** What the resource ledger keeps of a private containerd, enough to clean up after it without it. */
export interface ContainerdRecord {
  /** The directory everything lives in (config, root, state, sockets). */
  dir: string;
  socket: string;
  runcRoot: string;
}

/**
 * Removes what a private containerd leaves once containerd itself has stopped (or was killed):
 * containers still running (found in its runc root, killed and deleted by runc, which also
 * removes their cgroups), shims (they re-parent to init and outlive containerd) with the sockets
 * they leave in /run/containerd/s, the overlay/tmpfs/netns mounts under its directory (deepest
 * first), and the directory. Safe to run when everything is already gone; returns what it found.
 */
export async function sweepContainerd(record: ContainerdRecord): Promise<string[]> {
  const cleaned: string[] = [];
  cleaned.push(...(await deleteRuncContainers(record.runcRoot)));
  cleaned.push(...(await killShims(record.socket)));
  cleaned.push(...(await unmountUnder(record.dir)));
  if (existsSync(record.dir)) {
    await rm(record.dir, { recursive: true, force: true });
    cleaned.push(`dir ${record.dir}`);
  }
  if (cleaned.length > 0) debug('swept %s: %s', record.dir, cleaned.join(', '));
  return cleaned;
}

/** runc's containers under `<runcRoot>/<namespace>`: killed and deleted. */
export async function deleteRuncContainers(runcRoot: string): Promise<string[]> {
  if (!existsSync(runcRoot)) return [];
  const deleted: string[] = [];
  for (const namespace of readdirSync(runcRoot)) {
    const root = path.join(runcRoot, namespace);
    const listed = await runCommand('runc', ['--root', root, 'list', '--quiet'], { timeoutMs: 30_000 }).catch((e: unknown) => {
      debug('runc list in %s: %s', root, String(e));
      return { stdout: '' };
    });
    for (const id of listed.stdout.split('\n').map((l) => l.trim()).filter(Boolean)) {
      // --force kills every process of the container first; deleting removes its cgroup.
      await runCommand('runc', ['--root', root, 'delete', '--force', id], { timeoutMs: 30_000 }).then(
        () => deleted.push(`container ${namespace}/${id}`),
        (e: unknown) => debug('runc delete %s/%s: %s', namespace, id, String(e)),
      );
    }
  }
  return deleted;
}

async function killShims(socket: string): Promise<string[]> {
  const shims = shimsOf(socket);
  for (const shim of shims) signal(shim.pid, 'SIGKILL');
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && shimsOf(socket).some((s) => shims.some((k) => k.pid === s.pid))) await sleep(50);
  const killed: string[] = [];
  for (const shim of shims) {
    await rm(shimSocketPath(shim), { force: true });
    killed.push(`shim ${shim.namespace}/${shim.id} (pid ${shim.pid})`);
  }
  return killed;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* already gone */
  }
}

