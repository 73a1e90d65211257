import { existsSync, mkdirSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import createDebug from 'debug';
import { sleep } from '../../engine/clock.js';
import { EnvironmentError } from '../../engine/errors.js';
import { unusedTempDirName } from '../../engine/recorded-temp-dir.js';
import type { ResourceLedger } from '../../engine/resource-ledger.js';
import { PAUSE_IMAGE } from '../images/pause-image.js';
import { SupervisedProcess } from '../kubernetes/supervised-process.js';
import { runCommand, type CommandResult } from '../process/run-command.js';
import { requireSocketPathFits } from '../process/unix-socket-path.js';
import { containerdConfigToml, containerdLayout, type ContainerdLayout } from './containerd-config.js';
import { requireContainerRuntime, type ContainerRuntimeVersions } from './container-runtime.js';
import { sweepContainerd } from './containerd-sweep.js';
import { parseImageList, parseImportedImages, type ContainerdImage } from './ctr-output.js';

const debug = createDebug('drill:containerd');

/** The namespace the CRI plugin (and so kubelet) uses. */
export const K8S_NAMESPACE = 'k8s.io';

export interface PrivateContainerdOptions {
  ledger: ResourceLedger;
  /** containerd's `sandbox_image`; default drill.local/pause:3.10 (src/targets/images/pause-image.ts). */
  sandboxImage?: string;
  /** The CNI network config directory (the caller writes it); default an empty directory of this instance. */
  cniConfDir?: string;
  /** Default /usr/lib/cni (Debian's containernetworking-plugins). */
  cniBinDir?: string;
  /** The CRI streaming server's address; default 127.0.0.1 (or an address inside the caller's network namespace). */
  streamServerAddress?: string;
  /**
   * A program and arguments containerd is started through, e.g. `['nsenter', '--net=/run/netns/drill-x', '--']`
   * to run it (and so its shims and pods) inside the drill's network namespace. It must exec containerd
   * (the recorded pid is the one signalled). In a mount namespace of its own, its overlay and netns
   * mounts are not visible to dispose() here; they go when the last process of that namespace ends.
   */
  commandPrefix?: string[];
  /** Where the instance's temp directory goes; default the OS temp dir. Keep it short (socket paths). */
  parentDir?: string;
  startTimeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * A containerd of its own: config, content store, snapshots, runtime state, runc state and gRPC
 * socket in one temp directory, recorded in the resource ledger before it starts (as a `process`
 * for containerd and a `containerd` entry for what outlives it: shims, containers, mounts).
 * dispose() stops and deletes every task, stops containerd, then sweeps (containerd-sweep.ts).
 */
export class PrivateContainerd {
  private process: SupervisedProcess | undefined;
  private disposing: Promise<void> | undefined;

  private constructor(
    readonly layout: ContainerdLayout,
    readonly versions: ContainerRuntimeVersions,
    readonly cniConfDir: string,
  ) {}

  static async start(options: PrivateContainerdOptions, register?: (c: PrivateContainerd) => void): Promise<PrivateContainerd> {
    const versions = await requireContainerRuntime();
    // Named first and created only after its ledger entry: a kill -9 in between leaves nothing unknown.
    const dir = unusedTempDirName('drill-ctd-', { parent: options.parentDir, randomBytes: 3 });
    const layout = containerdLayout(dir);
    // containerd also listens on <socket>.ttrpc.
    requireSocketPathFits(`${layout.socket}.ttrpc`, "containerd's socket", 'set TMPDIR (or parentDir) to a shorter directory such as /tmp');
    options.ledger.record({ kind: 'containerd', dir, socket: layout.socket, runcRoot: layout.runcRoot });
    mkdirSync(dir, { mode: 0o700 });
    const cniConfDir = options.cniConfDir ?? path.join(dir, 'cni');
    const instance = new PrivateContainerd(layout, versions, cniConfDir);
    register?.(instance);
    try {
      for (const d of [layout.root, layout.state, layout.runcRoot, layout.fifoDir, layout.registryConfigDir, cniConfDir]) await mkdir(d, { recursive: true });
      await writeFile(
        layout.config,
        containerdConfigToml(layout, {
          sandboxImage: options.sandboxImage ?? PAUSE_IMAGE,
          cniConfDir,
          cniBinDir: options.cniBinDir ?? '/usr/lib/cni',
          streamServerAddress: options.streamServerAddress ?? '127.0.0.1',
        }),
      );
      await instance.boot(options);
      return instance;
    } catch (error) {
      await instance.dispose().catch((e: unknown) => debug('dispose after failed start: %s', String(e)));
      throw error;
    }
  }

  private async boot(options: PrivateContainerdOptions): Promise<void> {
    const { layout } = this;
    const prefix = options.commandPrefix ?? [];
    const [file, ...args] = [...prefix, 'containerd', '--config', layout.config];
    this.process = SupervisedProcess.start({
      name: 'containerd',
      file: file!,
      args,
      logFile: layout.log,
      ledger: options.ledger,
      match: layout.config,
      // Only what it needs to find runc and the shim: the drill's environment may hold secrets.
      env: { PATH: process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' },
    });
    const timeoutMs = options.startTimeoutMs ?? 60_000;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      options.signal?.throwIfAborted();
      if (this.process.exit) {
        throw new EnvironmentError('CONTAINERD_START_FAILED', `containerd exited at start (${JSON.stringify(this.process.exit)}); its log:\n${this.process.logTail()}`);
      }
      // ctr waits for a socket that is not there yet: ask only once containerd has created it.
      const up =
        existsSync(layout.socket) &&
        (await this.ctr(['version'], { timeoutMs: 5_000 }).then(
          () => true,
          () => false,
        ));
      if (up) break;
      if (Date.now() > deadline) {
        throw new EnvironmentError('CONTAINERD_START_FAILED', `containerd did not answer on ${layout.socket} within ${timeoutMs / 1000}s; its log:\n${this.process.logTail()}`);
      }
      await sleep(100, options.signal);
    }
    const plugins = await this.ctr(['plugins', 'ls']);
    const failed = plugins.stdout.split('\n').filter((line) => /\s(error)\s*$/.test(line));
    if (failed.some((line) => /\scri\s/.test(line))) {
      throw new EnvironmentError('CONTAINERD_CRI_FAILED', `containerd's CRI plugin did not load; its log:\n${this.process.logTail()}`);
    }
    debug('containerd %s (pid %d) ready on %s', this.versions.containerd, this.process.pid, layout.socket);
  }

  /** The gRPC socket, for `ctr -a` and kubelet's `--container-runtime-endpoint unix://...`. */
  get socket(): string {
    return this.layout.socket;
  }

  get criEndpoint(): string {
    return `unix://${this.layout.socket}`;
  }

  get pid(): number | undefined {
    return this.process?.exit ? undefined : this.process?.pid;
  }

  get logFile(): string {
    return this.layout.log;
  }

  /** `ctr --address <socket> <args>`. */
  ctr(args: string[], options: { timeoutMs?: number; signal?: AbortSignal; okCodes?: number[] } = {}): Promise<CommandResult> {
    return runCommand('ctr', ['--address', this.layout.socket, ...args], { timeoutMs: options.timeoutMs ?? 120_000, signal: options.signal, okCodes: options.okCodes });
  }

  /**
   * `ctr images import` of a docker-archive or OCI tarball into `namespace` (default k8s.io, where
   * kubelet looks), unpacked for the overlayfs snapshotter. Returns the images it names.
   */
  async importImages(archive: string, options: { namespace?: string; signal?: AbortSignal } = {}): Promise<ContainerdImage[]> {
    const result = await this.ctr(['--namespace', options.namespace ?? K8S_NAMESPACE, 'images', 'import', '--snapshotter', 'overlayfs', archive], {
      timeoutMs: 600_000,
      signal: options.signal,
    });
    return parseImportedImages(result.stdout);
  }

  async images(namespace = K8S_NAMESPACE): Promise<ContainerdImage[]> {
    return parseImageList((await this.ctr(['--namespace', namespace, 'images', 'ls'])).stdout);
  }

  /**
   * Flags for `ctr run` that keep a container's state inside this instance (runc state, FIFOs)
   * and give it a cgroup of its own that runc removes when the container is deleted.
   */
  runFlags(id: string): string[] {
    return ['--runc-root', this.layout.runcRoot, '--fifo-dir', this.layout.fifoDir, '--cgroup', `/${path.basename(this.layout.dir)}-${id}`];
  }

  dispose(): Promise<void> {
    this.disposing ??= this.stopAll();
    return this.disposing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }

  private async stopAll(): Promise<void> {
    if (this.process && !this.process.exit) {
      await this.deleteTasks().catch((e: unknown) => debug('deleting tasks: %s', String(e)));
      await this.process.stop(10_000);
    }
    await sweepContainerd({ dir: this.layout.dir, socket: this.layout.socket, runcRoot: this.layout.runcRoot });
    debug('containerd %s stopped and removed', this.layout.dir);
  }

  /** Through containerd, while it runs, so it unmounts rootfs and releases snapshots itself. */
  private async deleteTasks(): Promise<void> {
    const namespaces = (await this.ctr(['namespaces', 'ls', '--quiet'], { timeoutMs: 30_000 })).stdout.split('\n').filter(Boolean);
    for (const namespace of namespaces) {
      const ns = ['--namespace', namespace];
      const tasks = (await this.ctr([...ns, 'tasks', 'ls', '--quiet'], { timeoutMs: 30_000 })).stdout.split('\n').filter(Boolean);
      for (const id of tasks) {
        await this.ctr([...ns, 'tasks', 'kill', '--all', '--signal', 'SIGKILL', id], { timeoutMs: 30_000 }).catch((e: unknown) => debug('kill %s: %s', id, String(e)));
        await this.ctr([...ns, 'tasks', 'delete', '--force', id], { timeoutMs: 30_000 }).catch((e: unknown) => debug('delete task %s: %s', id, String(e)));
      }
      const containers = (await this.ctr([...ns, 'containers', 'ls', '--quiet'], { timeoutMs: 30_000 })).stdout.split('\n').filter(Boolean);
      for (const id of containers) {
        await this.ctr([...ns, 'containers', 'delete', id], { timeoutMs: 30_000 }).catch((e: unknown) => debug('delete container %s: %s', id, String(e)));
      }
    }
  }
}
