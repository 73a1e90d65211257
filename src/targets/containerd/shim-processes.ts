import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** A containerd-shim process and the task it serves, read from its command line. */
export interface ShimProcess {
  pid: number;
  namespace: string;
  id: string;
  address: string;
}

/**
 * The shims that belong to the containerd listening on `socket`. A shim re-parents to init as
 * soon as it starts and outlives containerd, so the only link back to its containerd is the
 * `-address <socket>` on its command line (`containerd-shim-runc-v2 -namespace k8s.io -id <id>
 * -address <socket>`).
 */
export function shimsOf(socket: string, procDir = '/proc'): ShimProcess[] {
  const shims: ShimProcess[] = [];
  for (const entry of readdirSync(procDir)) {
    if (!/^\d+$/.test(entry)) continue;
    let argv: string[];
    try {
      argv = readFileSync(path.join(procDir, entry, 'cmdline'), 'utf8').split('\0');
    } catch {
      continue; // gone meanwhile
    }
    const shim = parseShimCommandLine(Number(entry), argv);
    if (shim?.address === socket) shims.push(shim);
  }
  return shims;
}

export function parseShimCommandLine(pid: number, argv: string[]): ShimProcess | undefined {
  if (!path.basename(argv[0] ?? '').startsWith('containerd-shim')) return undefined;
  const flag = (name: string) => {
    const i = argv.indexOf(`-${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const [namespace, id, address] = [flag('namespace'), flag('id'), flag('address')];
  if (namespace === undefined || id === undefined || address === undefined) return undefined;
  return { pid, namespace, id, address };
}

/**
 * The socket a runc v2 shim listens on. containerd 1.6 puts it under the fixed
 * /run/containerd/s whatever its own state dir is, named by a hash of `<address>/<ns>/<id>`;
 * a killed shim leaves it behind.
 */
export function shimSocketPath(shim: Pick<ShimProcess, 'address' | 'namespace' | 'id'>): string {
  const digest = createHash('sha256').update(path.join(shim.address, shim.namespace, shim.id)).digest('hex');
  return path.join('/run/containerd/s', digest);
}
