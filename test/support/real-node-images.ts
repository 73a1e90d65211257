import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { parseImportedImages, type ContainerdImage } from '../../src/targets/containerd/ctr-output.js';
import { runCommand } from '../../src/targets/process/run-command.js';

/**
 * The containerd socket of each real node of the shared control plane, found where RealNode puts
 * it (`<cluster>/nodes/<node>/drill-ctd-*\/c.sock`): test files run in other processes than the
 * global setup that holds the RealNode objects.
 */
export function realNodeSockets(clusterRoot: string, nodes: string[]): string[] {
  return nodes.map((node) => {
    const dir = path.join(clusterRoot, 'nodes', node);
    const socket = readdirSync(dir)
      .filter((name) => name.startsWith('drill-ctd-'))
      .map((name) => path.join(dir, name, 'c.sock'))
      .find((file) => existsSync(file));
    if (!socket) throw new Error(`no containerd socket under ${dir}: is ${node} running?`);
    return socket;
  });
}

/** `ctr images import` of a docker-archive into every real node's image store (k8s.io), at once. */
export async function importIntoRealNodes(clusterRoot: string, nodes: string[], archive: string): Promise<ContainerdImage[][]> {
  return Promise.all(
    realNodeSockets(clusterRoot, nodes).map(async (socket) => {
      const result = await runCommand('ctr', ['--address', socket, '--namespace', 'k8s.io', 'images', 'import', '--snapshotter', 'overlayfs', archive], { timeoutMs: 300_000 });
      return parseImportedImages(result.stdout);
    }),
  );
}

/** Takes an image out of every real node again (the nodes' stores are shared by the whole run). */
export async function removeFromRealNodes(clusterRoot: string, nodes: string[], ref: string): Promise<void> {
  await Promise.all(
    realNodeSockets(clusterRoot, nodes).map((socket) => runCommand('ctr', ['--address', socket, '--namespace', 'k8s.io', 'images', 'rm', ref], { timeoutMs: 60_000, okCodes: [0, 1] })),
  );
}
