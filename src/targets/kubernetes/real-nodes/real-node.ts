import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import createDebug from 'debug';
import { stringify } from 'yaml';
import { sleep } from '../../../engine/clock.js';
import { EnvironmentError } from '../../../engine/errors.js';
import type { ResourceLedger } from '../../../engine/resource-ledger.js';
import { claimNodeIndex, releaseNodeIndex } from '../../network/drill-network.js';
import { nodeIp } from '../../network/layout.js';
import { PrivateContainerd } from '../../containerd/private-containerd.js';
import { freeLoopbackPort } from '../../postgres/free-port.js';
import { issueClientCertificate } from '../pki.js';
import { createCgroupRoot, removeCgroupTree } from './cgroup-root.js';
import { cniBridgeName, cniConfig } from './cni-config.js';
import { EnteredProcess, logFileIn } from './entered-process.js';
import { kubeletArgs, kubeletConfig, type KubeletSpec } from './kubelet-config.js';
import { NodeSandbox } from './node-sandbox.js';

const debug = createDebug('drill:k8s');

export interface RealNodeOptions {
  name: string;
  zone: string;
  /** The cluster's directory; the node lives in `<dir>/nodes/<name>`. */
  clusterDir: string;
  /** cgroupfs path under which every node of this cluster gets its own cgroup root. */
  cgroupParent: string;
  kubeletBinary: string;
  initBinary: string;
  sandboxImage: string;
  /** docker-archive tarballs imported into the node's containerd before kubelet starts. */
  imageArchives: string[];
  pki: { caCert: string; caKey: string };
  server: string;
  caPem: string;
  ledger: ResourceLedger;
  statusUpdateSeconds: number;
  timeoutMs: number;
  signal?: AbortSignal;
}

/**
 * A real Kubernetes node: containerd + runc + CNI bridge + kubelet, in a sandbox of its own
 * (node-sandbox.ts) inside the drill network. Pods on it are real containers from imported
 * images. `stopKubelet` is a kubelet crash (containers keep running, the node goes NotReady);
 * `powerOff` is a machine loss (everything on it dies at once).
 */
export class RealNode {
  private sandbox: NodeSandbox | undefined;
  private containerd: PrivateContainerd | undefined;
  private kubelet: EnteredProcess | undefined;
  readonly dir: string;
  /** The node's slot in the drill network (address, pod range, CNI bridge), claimed at start. */
  private index: number | undefined;
  private kubeletSpec: KubeletSpec | undefined;
  private readonly cgroupRoot: string;

  constructor(readonly options: RealNodeOptions) {
    this.dir = path.join(options.clusterDir, 'nodes', options.name);
    this.cgroupRoot = `${options.cgroupParent}/${options.name}`;
  }

  get name(): string {
    return this.options.name;
  }

  /** The node's address in the drill network (its InternalIP). */
  get ip(): string {
    if (this.index === undefined) throw new Error(`node ${this.name} has no address before start()`);
    return nodeIp(this.index);
  }

  /** containerd's socket (kubelet's CRI endpoint; `ctr -a` for people). */
  get socket(): string | undefined {
    return this.containerd?.socket;
  }

  /** Sets the node up and starts it; resolves once kubelet answers its health check (Ready is the caller's wait). */
  async start(): Promise<void> {
    const o = this.options;
    await mkdir(this.dir, { recursive: true });
    await mkdir(path.join(this.dir, 'cni'), { recursive: true });
    this.index = await claimNodeIndex();
    await writeFile(path.join(this.dir, 'cni', '10-drill.conflist'), JSON.stringify(cniConfig(this.index, path.join(this.dir, 'cni-ipam')), null, 2));
    o.ledger.record({ kind: 'cgroup', path: this.cgroupRoot });
    createCgroupRoot(this.cgroupRoot);

    this.sandbox = await NodeSandbox.start({ node: o.name, dir: this.dir, initBinary: o.initBinary, ledger: o.ledger });
    // In the node's namespaces: its shims and containers die with the node.
    this.containerd = await PrivateContainerd.start(
      {
        ledger: o.ledger,
        sandboxImage: o.sandboxImage,
        cniConfDir: path.join(this.dir, 'cni'),
        streamServerAddress: this.ip,
        commandPrefix: this.sandbox.enter(),
        parentDir: this.dir,
        startTimeoutMs: o.timeoutMs,
        ...(o.signal ? { signal: o.signal } : {}),
      },
      (c) => (this.containerd = c),
    );
    for (const archive of o.imageArchives) await this.importImages(archive);

    const cert = await issueClientCertificate(o.pki, path.join(this.dir, 'pki'), 'kubelet-client', { commonName: `system:node:${o.name}`, organizations: ['system:nodes'] });
    const kubeconfig = path.join(this.dir, 'kubelet.kubeconfig');
    await writeFile(kubeconfig, nodeKubeconfig(o.name, o.server, o.caPem, cert), { mode: 0o600 });
    this.kubeletSpec = {
      node: o.name,
      nodeIp: this.ip,
      port: 10250,
      healthzPort: await freeLoopbackPort(),
      dir: this.dir,
      cgroupRoot: this.cgroupRoot,
      criSocket: this.containerd.socket,
      clientCaFile: o.pki.caCert,
      kubeconfig,
      labels: { 'topology.kubernetes.io/zone': o.zone, 'topology.kubernetes.io/region': 'drill-local', 'drill.dev/node-kind': 'real' },
      statusUpdateSeconds: o.statusUpdateSeconds,
    };
    await writeFile(path.join(this.dir, 'kubelet.yaml'), stringify(kubeletConfig(this.kubeletSpec)));
    await this.startKubelet();
  }

  /** Loads a docker-archive into the node's image store for Kubernetes (namespace k8s.io). */
  async importImages(archive: string): Promise<void> {
    if (!this.containerd) throw new EnvironmentError('NODE_POWERED_OFF', `node ${this.name} has no containerd running`);
    const t0 = Date.now();
    await this.containerd.importImages(archive, this.options.signal ? { signal: this.options.signal } : {});
    debug('node %s: imported %s in %d ms', this.name, path.basename(archive), Date.now() - t0);
  }

  async startKubelet(): Promise<void> {
    if (this.kubelet && !this.kubelet.exit) return;
    if (!this.sandbox?.alive || !this.kubeletSpec) throw new EnvironmentError('NODE_POWERED_OFF', `node ${this.name} is powered off; it cannot run kubelet`);
    this.kubelet = EnteredProcess.start({
      name: `kubelet:${this.name}`,
      enter: this.sandbox.enter(),
      file: this.options.kubeletBinary,
      args: kubeletArgs(this.kubeletSpec, path.join(this.dir, 'kubelet.yaml')),
      logFile: logFileIn(this.dir, 'kubelet'),
      ledger: this.options.ledger,
      match: this.dir,
    });
    const healthz = `http://127.0.0.1:${this.kubeletSpec.healthzPort}/healthz`;
    const deadline = Date.now() + this.options.timeoutMs;
    for (;;) {
      if (this.kubelet.exit) throw new EnvironmentError('KUBELET_EXITED', `kubelet of node ${this.name} exited during start-up: ${this.kubelet.logTail(25)}`);
      const ok = await fetch(healthz, { signal: AbortSignal.timeout(2000) }).then((r) => r.ok, () => false);
      if (ok) return;
      if (Date.now() > deadline) throw new EnvironmentError('KUBELET_NOT_HEALTHY', `kubelet of node ${this.name} was not healthy within ${this.options.timeoutMs / 1000}s: ${this.kubelet.logTail(25)}`);
      await sleep(200, this.options.signal);
    }
  }

  /** Kubelet dies (SIGKILL) or stops (SIGTERM); containers keep running, heartbeats stop. */
  async stopKubelet(how: 'kill' | 'terminate' = 'kill'): Promise<void> {
    if (how === 'kill') await this.kubelet?.kill();
    else await this.kubelet?.stop();
  }

  /** The host PID of the node's init (for `nsenter --target`), while it is powered on. */
  get sandboxInitPid(): number | undefined {
    return this.sandbox?.alive ? this.sandbox.initPid : undefined;
  }

  get kubeletRunning(): boolean {
    return this.kubelet !== undefined && !this.kubelet.exit;
  }

  get poweredOn(): boolean {
    return this.sandbox?.alive ?? false;
  }

  /** The machine is lost: containerd, kubelet and every container on it die at once. */
  async powerOff(): Promise<void> {
    await this.sandbox?.kill();
  }

  /** Powers off and removes what containerd and the node's cgroups leave; its directory goes with the cluster's. */
  async dispose(): Promise<void> {
    await this.powerOff();
    await this.containerd?.dispose().catch((e: unknown) => debug('node %s containerd: %s', this.name, String(e)));
    await removeCgroupTree(this.cgroupRoot).catch((e: unknown) => debug('node %s cgroups: %s', this.name, String(e)));
    if (this.index !== undefined) await releaseNodeIndex(this.index, cniBridgeName(this.index)).catch((e: unknown) => debug('node %s address: %s', this.name, String(e)));
  }
}

function nodeKubeconfig(node: string, server: string, caPem: string, cert: { cert: string; key: string }): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'drill', cluster: { server, 'certificate-authority-data': Buffer.from(caPem).toString('base64') } }],
    users: [{ name: node, user: { 'client-certificate': cert.cert, 'client-key': cert.key } }],
    contexts: [{ name: 'drill', context: { cluster: 'drill', user: node } }],
    'current-context': 'drill',
  });
}
