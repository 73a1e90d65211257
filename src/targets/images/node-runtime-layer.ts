import { realpath } from 'node:fs/promises';
import { runCommand } from '../process/run-command.js';
import { hostFile } from './host-file.js';
import { layerSpec, type LayerEntry, type LayerSpec } from './layer-spec.js';
import { sharedLibraryEntries } from './host-program.js';

/** The unprivileged user service containers run as (numeric in the image config, see service-images.ts). */
export const APP_USER = { name: 'app', uid: 10001, gid: 10001 } as const;

const PASSWD = `root:x:0:0:root:/root:/usr/sbin/nologin
${APP_USER.name}:x:${APP_USER.uid}:${APP_USER.gid}:${APP_USER.name}:/home/${APP_USER.name}:/usr/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
`;
const GROUP = `root:x:0:
${APP_USER.name}:x:${APP_USER.gid}:
nogroup:x:65534:
`;
// glibc's defaults without the file differ between versions; this says it once.
const NSSWITCH = `passwd: files
group: files
hosts: files dns
`;

/**
 * The base layer of service images: this machine's node binary at /usr/bin/node, the shared
 * libraries `ldd` lists for it at their own paths (with the symlinks leading there), and a
 * minimal /etc (root, `app` 10001, nobody) and /tmp (1777). Nothing else: no shell, no package
 * manager, so a container from it can run node and only node.
 */
export async function nodeRuntimeLayer(node: string = process.execPath): Promise<LayerSpec> {
  const binary = await realpath(node);
  const { source, mode } = await hostFile(binary);
  const entries: LayerEntry[] = [{ type: 'file', path: '/usr/bin/node', mode, source }];
  entries.push(...(await sharedLibraryEntries([binary])));
  const text = (data: string) => ({ kind: 'bytes' as const, data: Buffer.from(data) });
  entries.push(
    { type: 'file', path: '/etc/passwd', mode: 0o644, source: text(PASSWD) },
    { type: 'file', path: '/etc/group', mode: 0o644, source: text(GROUP) },
    { type: 'file', path: '/etc/nsswitch.conf', mode: 0o644, source: text(NSSWITCH) },
    { type: 'directory', path: `/home/${APP_USER.name}`, mode: 0o750, uid: APP_USER.uid, gid: APP_USER.gid },
    { type: 'directory', path: '/tmp', mode: 0o1777 },
  );
  return layerSpec(`node runtime ${await nodeVersion(binary)} (sha256 ${source.kind === 'file' ? source.sha256.slice(0, 12) : ''})`, entries);
}

async function nodeVersion(binary: string): Promise<string> {
  // The running node is usually the binary; asking it avoids starting another process.
  if (binary === (await realpath(process.execPath))) return process.version;
  return (await runCommand(binary, ['--version'], { timeoutMs: 30_000 })).stdout.trim();
}
