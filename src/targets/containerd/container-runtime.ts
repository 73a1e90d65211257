import createDebug from 'debug';
import { EnvironmentError } from '../../engine/errors.js';
import { runCommand } from '../process/run-command.js';

const debug = createDebug('drill:containerd');

/** The versions drill is tested with: Debian bookworm's packages. */
export const PINNED_VERSIONS = { containerd: '1.6.20', runc: '1.1.5' } as const;

export interface ContainerRuntimeVersions {
  containerd: string;
  runc: string;
}

const INSTALL = 'install them as root with `npm run setup:all` (or: apt-get install containerd runc containernetworking-plugins)';

/**
 * Checks that this machine can run a private containerd (root, containerd, ctr, the runc shim,
 * runc) and returns the versions found. Other versions than the pinned ones are used, with a
 * debug note: the config is containerd's version 2 format, which later releases still read.
 */
export async function requireContainerRuntime(): Promise<ContainerRuntimeVersions> {
  if (process.getuid?.() !== 0) {
    throw new EnvironmentError('CONTAINERD_NEEDS_ROOT', 'a private containerd (real Kubernetes nodes, container tests) needs root: run as root, or use fake nodes');
  }
  const version = async (program: string, args: string[]) =>
    runCommand(program, args, { timeoutMs: 30_000 }).then(
      (r) => r.stdout,
      (error: unknown) => {
        throw new EnvironmentError('CONTAINERD_MISSING', `${program} is not usable here (${String(error).slice(0, 200)}); ${INSTALL}`, { cause: error });
      },
    );
  // e.g. "containerd github.com/containerd/containerd 1.6.20~ds1 1.6.20~ds1-1+deb12u3"
  const containerd = /\s(v?\d+\.\d+\.\d+)/.exec(await version('containerd', ['--version']))?.[1]?.replace(/^v/, '') ?? 'unknown';
  // e.g. "runc version 1.1.5+ds1"
  const runc = /runc version (\d+\.\d+\.\d+)/.exec(await version('runc', ['--version']))?.[1] ?? 'unknown';
  await version('ctr', ['--version']);
  await version('containerd-shim-runc-v2', ['-v']);
  if (containerd !== PINNED_VERSIONS.containerd || runc !== PINNED_VERSIONS.runc) {
    debug('containerd %s / runc %s found; drill is tested with containerd %s / runc %s', containerd, runc, PINNED_VERSIONS.containerd, PINNED_VERSIONS.runc);
  }
  return { containerd, runc };
}
