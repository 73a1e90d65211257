import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import createDebug from 'debug';
import { sleep } from '../../engine/clock.js';
import { EnvironmentError, InputError } from '../../engine/errors.js';
import { createRecordedTempDir } from '../../engine/recorded-temp-dir.js';
import type { ResourceLedger } from '../../engine/resource-ledger.js';
import { freeLoopbackPort } from '../postgres/free-port.js';
import { listClusterNodes, loadKubeConfig } from './cluster-client.js';
import { apiStatus } from './kube-api.js';
import {
  apiserverArgs,
  AUDIT_POLICY,
  controllerManagerArgs,
  DEFAULT_TUNING,
  etcdArgs,
  kwokArgs,
  podCidrOf,
  schedulerArgs,
  type ControlPlaneLayout,
  type NodeAgentSpec,
  type ControlPlaneTuning,
} from './component-args.js';
import { requireKubelet, resolveControlPlaneBinaries, type ControlPlaneBinaries, type ControlPlaneBinary } from './control-plane-binaries.js';
import { createFakeNodes, FAKE_NODE_ZONES, fakeNodeManifest, fakeNodeName, leastPopulatedZone, waitForNodesReady } from './fake-nodes.js';
import { writeKubeconfig } from './kubeconfig-file.js';
import { createPki, createServiceAccountKeyPair, issueClientCertificate, newToken } from './pki.js';
import { publicKeyFingerprint } from './public-key-fingerprint.js';
import { RealNode } from './real-nodes/real-node.js';
import { requireDrillNetwork } from './real-nodes/require-drill-network.js';
import { realNodeName, type NodeImages } from './real-nodes/node-images.js';
import { SupervisedProcess } from './supervised-process.js';
import { createCgroupRoot, removeCgroupTree, setCpuShares } from './real-nodes/cgroup-root.js';
import type { ClusterNode, KubernetesCluster, NodeAgents, SigningKeyRotation, SigningKeyRotationOptions, TargetPolicy } from './types.js';
import { waitForHealthy, type HealthCheck } from './wait-for-health.js';
import type { SecretSink } from '../../report/redactor.js';

const debug = createDebug('drill:k8s');

export const LOCAL_CONTEXT = 'drill-local';

/** How long a stopped kube-apiserver may take to exit on SIGTERM before it is killed (signing-key rotation). */
const APISERVER_STOP_GRACE_MS = 3_000;

/** The cluster's pods' CPU weight per CPU of the machine (1024: one busy process's weight). */
const CLUSTER_CPU_SHARES_PER_CPU = 1024;

/** kwok's node and pod lifecycle simulation (see the file's header). */
const KWOK_STAGES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'kwok-stages.yaml');

export interface LocalControlPlaneOptions {
  runId: string;
  ledger: ResourceLedger;
  /** Fake (kwok) nodes to create; default 3 (none when real nodes are asked for), spread over zones. */
  nodes?: number;
  /**
   * Real nodes (containerd + kubelet; real-nodes/real-node.ts) to start, spread over zones. They
   * need the drill network (the caller must run inside one), root, and the images to import.
   */
  realNodes?: number;
  nodeImages?: NodeImages;
  /** Default: DRILL_CONTROL_PLANE_BIN, else the build cache (see control-plane-binaries.ts). */
  binaries?: ControlPlaneBinaries;
  /** Run tools/build-control-plane.sh when nothing is built yet (minutes on a cold machine). */
  allowBuild?: boolean;
  /** Where the admin kubeconfig goes; default `<temp dir>/kubeconfig`. Removed by dispose(). */
  kubeconfigPath?: string;
  tuning?: Partial<ControlPlaneTuning>;
  /** Per start-up stage (each component's health, the nodes). */
  stageTimeoutMs?: number;
  signal?: AbortSignal;
  onProgress?: (message: string) => void;
  /** Where the static tokens it generates are registered as they are made (a drill's Redactor). */
  secrets?: SecretSink;
}

export interface ComponentInfo {
  /** The binary, or `kwok:<node>` for a node's agent. */
  name: string;
  pid: number;
  logFile: string;
}

interface StartContext {
  binaries: ControlPlaneBinaries;
  pki: { caCert: string; caKey: string; caPem: string };
  ledger: ResourceLedger;
  tuning: ControlPlaneTuning;
  timeout: { timeoutMs: number; signal?: AbortSignal };
  /** The harness's own static token, for the apiserver's /readyz after a restart. */
  adminToken: string;
}

/**
 * A real Kubernetes control plane on loopback: etcd, kube-apiserver (audit log on), the controller
 * manager, the scheduler, and per fake node a kwok acting as its kubelet (pods bound to the node
 * become Running and Ready without containers). Everything lives in one temp directory recorded in
 * the resource ledger; dispose() stops the processes in reverse order and removes it.
 */
export class LocalControlPlane implements KubernetesCluster {
  readonly kind = 'local' as const;
  readonly context = LOCAL_CONTEXT;
  readonly targetPolicy: TargetPolicy = { kind: 'whole-cluster' };
  readonly nodeAgents: NodeAgents = {
    stop: (node, how) => this.stopNodeAgent(node, how),
    start: (node, options) => this.startNodeAgent(node, options),
  };
  readonly kubeconfigPath: string;
  readonly auditLogPath: string;
  /** Every process started, in start order (a restarted node agent appears again). */
  private readonly processes: SupervisedProcess[] = [];
  private readonly agents = new Map<string, { spec: NodeAgentSpec; process?: SupervisedProcess }>();
  private readonly realNodes = new Map<string, RealNode>();
  private nextRealNodeIndex = 0;
  private nodeImages: NodeImages | undefined;
  /** The index of the next node (its default name and pod CIDR): never reused, so CIDRs never collide. */
  private nextNodeIndex = 0;
  /** The service-account signing key in use: 1 at start, one more per rotation. */
  private signingKeyGeneration = 1;
  private started: StartContext | undefined;
  private disposing: Promise<void> | undefined;

  private constructor(
    readonly name: string,
    readonly root: string,
    readonly layout: ControlPlaneLayout,
    kubeconfigPath: string | undefined,
  ) {
    this.kubeconfigPath = kubeconfigPath ?? path.join(root, 'kubeconfig');
    this.auditLogPath = layout.auditLogPath;
  }

  /**
   * Starts everything and waits until it works (nodes Ready, default service account present).
   * `register` receives the control plane as soon as it owns anything, so a caller that gives up
   * waiting (abort, timeout) can still dispose of it; on a failed start it disposes itself.
   */
  static async start(options: LocalControlPlaneOptions, register?: (cp: LocalControlPlane) => void): Promise<LocalControlPlane> {
    const binaries =
      options.binaries ?? (await resolveControlPlaneBinaries({ allowBuild: options.allowBuild, signal: options.signal, onProgress: options.onProgress }));
    const safeRun = options.runId.replace(/[^A-Za-z0-9_.-]/g, '-').slice(-24);
    // Recorded before it exists (a kill -9 in between must not leave an unknown directory); few
    // random bytes, because the nodes' containerd sockets live below it.
    const root = createRecordedTempDir(options.ledger, `drill-k8s-${safeRun}-`, { randomBytes: 3 });
    const layout = await newLayout(root);
    const cp = new LocalControlPlane(`local-${safeRun}`, root, layout, options.kubeconfigPath);
    cp.nodeImages = options.nodeImages;
    register?.(cp);
    try {
      await cp.boot(binaries, options);
      return cp;
    } catch (error) {
      await cp.dispose().catch((e: unknown) => debug('dispose after failed start: %s', String(e)));
      throw error;
    }
  }

  private async boot(binaries: ControlPlaneBinaries, options: LocalControlPlaneOptions): Promise<void> {
    const { layout, root } = this;
    const progress = (m: string) => {
      debug(m);
      options.onProgress?.(m);
    };
    const t0 = Date.now();

    progress('generating certificates and tokens');
    const realCount = options.realNodes ?? 0;
    if (realCount > 0) {
      await requireDrillNetwork();
      requireKubelet(binaries);
      if (!this.nodeImages) throw new EnvironmentError('NODE_IMAGES_MISSING', 'real nodes need their images (pause and the system under drill); pass nodeImages');
    }
    const pki = await createPki(path.join(root, 'pki'));
    await issueClientCertificate(pki, path.join(root, 'pki'), 'apiserver-kubelet-client', { commonName: 'kube-apiserver-kubelet-client', organizations: ['system:masters'] });
    const tokens = { admin: newToken(), controllerManager: newToken(), scheduler: newToken(), kwok: newToken() };
    for (const [holder, token] of Object.entries(tokens)) options.secrets?.register(token, `the local control plane's static token for ${holder}`);
    // Static tokens: token,user,uid,"groups". The controller manager and scheduler get the
    // identities the bootstrap RBAC policy grants their permissions to; the harness and kwok are admins.
    await writeFile(
      layout.tokenFile,
      [
        `${tokens.admin},drill-admin,drill-admin,"system:masters"`,
        `${tokens.controllerManager},system:kube-controller-manager,system:kube-controller-manager`,
        `${tokens.scheduler},system:kube-scheduler,system:kube-scheduler`,
        `${tokens.kwok},kwok,kwok,"system:masters"`,
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    await writeFile(layout.auditPolicyFile, AUDIT_POLICY);
    await copyFile(KWOK_STAGES, layout.kwokConfig);
    const server = this.server;
    const caPem = pki.caPem();
    await writeKubeconfig(layout.kubeconfigs.controllerManager, { name: 'controller-manager', server, caPem, token: tokens.controllerManager });
    await writeKubeconfig(layout.kubeconfigs.scheduler, { name: 'scheduler', server, caPem, token: tokens.scheduler });
    await writeKubeconfig(layout.kubeconfigs.kwok, { name: 'kwok', server, caPem, token: tokens.kwok });
    await writeKubeconfig(this.kubeconfigPath, { name: LOCAL_CONTEXT, server, caPem, token: tokens.admin });
    const ctx: StartContext = {
      binaries,
      pki: { caCert: pki.caCert, caKey: pki.caKey, caPem },
      ledger: options.ledger,
      tuning: { ...DEFAULT_TUNING, ...options.tuning },
      timeout: { timeoutMs: options.stageTimeoutMs ?? 120_000, signal: options.signal },
      adminToken: tokens.admin,
    };
    this.started = ctx;
    // Self-signed serving certificates (generated by the component at start): see HealthCheck.insecure.
    const selfSigned = (port: number): HealthCheck => ({ url: `https://127.0.0.1:${port}/healthz`, insecure: true, token: tokens.admin });

    progress('starting etcd');
    const etcd = this.spawn('etcd', 'etcd', etcdArgs(layout, ctx.tuning));
    await waitForHealthy(etcd, { url: `http://127.0.0.1:${layout.ports.etcdClient}/health`, expectBody: '"health":"true"' }, ctx.timeout);

    progress('starting kube-apiserver');
    const apiserver = this.spawn('kube-apiserver', 'kube-apiserver', apiserverArgs(layout));
    await waitForHealthy(apiserver, { url: `${server}/readyz`, ca: caPem, token: tokens.admin }, ctx.timeout);

    progress('starting kube-controller-manager and kube-scheduler');
    const kcm = this.spawn('kube-controller-manager', 'kube-controller-manager', controllerManagerArgs(layout, ctx.tuning));
    const scheduler = this.spawn('kube-scheduler', 'kube-scheduler', schedulerArgs(layout));
    await Promise.all([
      waitForHealthy(kcm, selfSigned(layout.ports.controllerManager), ctx.timeout),
      waitForHealthy(scheduler, selfSigned(layout.ports.scheduler), ctx.timeout),
    ]);

    const kc = this.connect();
    const count = options.nodes ?? (realCount > 0 ? 0 : 3);
    if (count > 0) {
      progress(`creating ${count} fake node(s), each with its own kwok`);
      const names = await createFakeNodes(kc, count, { tainted: realCount > 0 });
      for (const [index, node] of names.entries()) {
        this.agents.set(node, { spec: { node, podCidr: podCidrOf(index), port: await freeLoopbackPort() } });
      }
      this.nextNodeIndex = names.length;
      await Promise.all(names.map((node) => this.startNodeAgent(node, { waitReady: false })));
      await waitForNodesReady(kc, names, ctx.timeout);
    }
    if (realCount > 0) {
      progress(`starting ${realCount} real node(s) (containerd + kubelet)`);
      // Each node's cgroups go below the cluster's; recorded first, so the reaper removes it last.
      ctx.ledger.record({ kind: 'cgroup', path: this.cgroupParent });
      createCgroupRoot(this.cgroupParent);
      // At the default weight (1024), every pod of every node together weighs one busy process of
      // the machine, so a loaded machine (a CI job's other tests) leaves them a sliver of it. A real
      // node has CPUs of its own; here the cluster weighs as much as the machine's CPUs. (Two
      // drills on one shared control plane beside 8 busy processes: 62 s with it, 95 s without.)
      setCpuShares(this.cgroupParent, CLUSTER_CPU_SHARES_PER_CPU * availableParallelism());
      const started: string[] = [];
      for (let i = 0; i < realCount; i++) started.push(await this.startRealNode(undefined, FAKE_NODE_ZONES[i % FAKE_NODE_ZONES.length]!));
      await waitForNodesReady(kc, started, ctx.timeout);
    }
    // Pods are refused until the service account controller has created `default` in a namespace.
    await waitForDefaultServiceAccount(kc, 'default', ctx.timeout);
    progress(`control plane ready in ${((Date.now() - t0) / 1000).toFixed(1)}s: ${server}`);
  }

  private spawn(binary: ControlPlaneBinary, name: string, args: string[]): SupervisedProcess {
    const ctx = this.started!;
    const p = SupervisedProcess.start({
      name,
      file: ctx.binaries.path(binary),
      args,
      logFile: path.join(this.root, 'logs', `${name.replace(/[^A-Za-z0-9_.-]/g, '-')}.log`),
      ledger: ctx.ledger,
      match: this.root,
    });
    this.processes.push(p);
    return p;
  }

  connect(): KubeConfig {
    return loadKubeConfig(this.kubeconfigPath, this.context);
  }

  nodes(): Promise<ClusterNode[]> {
    return listClusterNodes(this.connect());
  }

  /** The fake nodes this control plane created. */
  get fakeNodeNames(): string[] {
    return [...this.agents.keys()];
  }

  /** The cgroupfs path under which each real node of this cluster has its own cgroup root. */
  private get cgroupParent(): string {
    return `/drill-${this.name}`;
  }

  /** The real nodes this control plane started (powered on or not). */
  get realNodeNames(): string[] {
    return [...this.realNodes.keys()];
  }

  /** A real node of this cluster (containerd + kubelet), for faults that act on it. */
  realNode(name: string): RealNode | undefined {
    return this.realNodes.get(name);
  }

  private async startRealNode(name: string | undefined, zone: string): Promise<string> {
    const ctx = this.started!;
    const index = this.nextRealNodeIndex++;
    const node = new RealNode({
      name: name ?? realNodeName(index),
      zone,
      clusterDir: this.root,
      cgroupParent: this.cgroupParent,
      kubeletBinary: requireKubelet(ctx.binaries),
      initBinary: this.nodeImages!.initBinary,
      sandboxImage: this.nodeImages!.sandboxImage,
      imageArchives: this.nodeImages!.archives,
      pki: ctx.pki,
      server: this.server,
      caPem: ctx.pki.caPem,
      ledger: ctx.ledger,
      statusUpdateSeconds: 10,
      timeoutMs: ctx.timeout.timeoutMs,
      ...(ctx.timeout.signal ? { signal: ctx.timeout.signal } : {}),
    });
    this.realNodes.set(node.name, node);
    await node.start();
    return node.name;
  }

  get server(): string {
    return `https://127.0.0.1:${this.layout.ports.apiserver}`;
  }

  /** The running processes, in start order (for logs, and for faults that act on one). */
  get components(): ComponentInfo[] {
    return this.processes.filter((p) => !p.exit).map((p) => ({ name: p.name, pid: p.pid, logFile: p.logFile }));
  }

  /** A running component by name (`kube-apiserver`, `kwok:kwok-node-1`, ...). */
  component(name: string): SupervisedProcess | undefined {
    return this.processes.find((p) => p.name === name && !p.exit);
  }

  /** The kwok acting as this node's kubelet, while it runs. */
  nodeAgent(node: string): SupervisedProcess | undefined {
    const agent = this.agents.get(node)?.process;
    return agent && !agent.exit ? agent : undefined;
  }

  /**
   * Stops a node's agent: the node stops heartbeating (its Lease is no longer renewed), so after
   * the node monitor grace period the node lifecycle controller marks it NotReady and taints it,
   * as when a kubelet or its machine dies. `kill` is SIGKILL (a crash), otherwise SIGTERM.
   */
  async stopNodeAgent(node: string, how: 'kill' | 'terminate' = 'kill'): Promise<void> {
    const real = this.realNodes.get(node);
    if (real) return real.stopKubelet(how);
    const agent = this.requireAgent(node).process;
    if (how === 'kill') await agent?.kill();
    else await agent?.stop();
  }

  /** (Re)starts a node's agent; with `waitReady` (default) until kwok reports the node Ready again. */
  async startNodeAgent(node: string, options: { waitReady?: boolean } = {}): Promise<void> {
    const ctx = this.started!;
    const real = this.realNodes.get(node);
    if (real) {
      await real.startKubelet();
      if (options.waitReady ?? true) await waitForNodesReady(this.connect(), [node], ctx.timeout);
      return;
    }
    const agent = this.requireAgent(node);
    if (agent.process && !agent.process.exit) return;
    agent.process = this.spawn('kwok', `kwok:${node}`, kwokArgs(this.layout, ctx.tuning, agent.spec));
    await waitForHealthy(agent.process, { url: `http://127.0.0.1:${agent.spec.port}/healthz` }, ctx.timeout);
    if (options.waitReady ?? true) await waitForNodesReady(this.connect(), [node], ctx.timeout);
  }

  /**
   * One more fake node, as a node group scaling out: a Node registered like the initial ones (kwok
   * annotation, labels, capacity) with a pod CIDR no other node had, and its own kwok, recorded in
   * the resource ledger and stopped by dispose(). Default name: the next `kwok-node-<n>`; default
   * zone: the one with the fewest live nodes. With `waitReady` (default) until kwok reports it
   * Ready; the scheduler may still wait for the node lifecycle controller to lift its not-ready taint.
   */
  async addNode(name?: string, zone?: string, options: { waitReady?: boolean; kind?: 'real' | 'fake' } = {}): Promise<string> {
    const ctx = this.started;
    if (!ctx || this.disposing) throw new EnvironmentError('CONTROL_PLANE_STOPPED', `control plane ${this.name} is not running; a node can only join a running one`);
    if (name !== undefined && (this.agents.has(name) || this.realNodes.has(name))) {
      throw new InputError('NODE_EXISTS', `"${name}" is already a node of this cluster (${this.fakeNodeNames.join(', ')}); name the new node differently or leave the name out`);
    }
    // A cluster that runs real nodes replaces and adds real ones: the system under drill needs them.
    if ((options.kind ?? (this.realNodes.size > 0 ? 'real' : 'fake')) === 'real') {
      const core = this.connect().makeApiClient(CoreV1Api);
      const node = await this.startRealNode(name, zone ?? leastPopulatedZone(await this.liveNodeZones(core)));
      if (options.waitReady ?? true) await waitForNodesReady(this.connect(), [node], ctx.timeout);
      return node;
    }
    let index = this.nextNodeIndex;
    while (name === undefined && this.agents.has(fakeNodeName(index))) index++;
    // podCidrOf(index) is 198.19.(128+index).0/24.
    if (index > 127) throw new EnvironmentError('NODE_CIDRS_EXHAUSTED', `control plane ${this.name} has handed out all 128 fake-node pod CIDRs; start a new one`);
    this.nextNodeIndex = index + 1;
    const node = name ?? fakeNodeName(index);
    const core = this.connect().makeApiClient(CoreV1Api);
    zone ??= leastPopulatedZone(await this.liveNodeZones(core));
    const podCidr = podCidrOf(index);
    await core.createNode({ body: fakeNodeManifest(index, { name: node, zone, tainted: this.realNodes.size > 0 }) }).catch((error: unknown) => {
      if (apiStatus(error) === 409) throw new InputError('NODE_EXISTS', `the cluster already has a node "${node}" (not one this control plane added); name the new node differently`);
      throw error;
    });
    this.agents.set(node, { spec: { node, podCidr, port: await freeLoopbackPort() } });
    debug('node %s added in %s (pod CIDR %s)', node, zone, podCidr);
    try {
      await this.startNodeAgent(node, { waitReady: options.waitReady ?? true });
    } catch (error) {
      // Undone, so no phantom node is left for the scheduler to consider and the name can be used again.
      await this.agents.get(node)?.process?.stop().catch((e: unknown) => debug('stop kwok:%s after failed join: %s', node, String(e)));
      this.agents.delete(node);
      await core.deleteNode({ name: node }).catch((e: unknown) => debug('delete node %s after failed join: %s', node, String(e)));
      throw error;
    }
    return node;
  }

  /** The zones of the nodes that count: Ready, or with their agent running (a node just added is not Ready yet). */
  private async liveNodeZones(core: CoreV1Api): Promise<Array<string | undefined>> {
    return (await core.listNode()).items
      .filter((n) => !n.metadata?.deletionTimestamp)
      .filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') || this.nodeAgent(n.metadata!.name!) || this.realNodes.get(n.metadata!.name!)?.kubeletRunning)
      .map((n) => n.metadata?.labels?.['topology.kubernetes.io/zone']);
  }

  /**
   * KubernetesCluster.rotateServiceAccountSigningKey: a new key pair beside the old one; the
   * apiserver stopped and started with the new public key as its only verification key (the old
   * one left out: that is what refuses every token it signed) and the new private key to sign;
   * /readyz waited for; then the controller manager restarted with the new private key (legacy
   * token Secrets and its controllers' own tokens). The layout keeps the new key, so a later
   * restart does not bring the old one back. The apiserver is unreachable in between (measured).
   */
  async rotateServiceAccountSigningKey(options: SigningKeyRotationOptions = {}): Promise<SigningKeyRotation> {
    const ctx = this.started;
    if (!ctx || this.disposing) throw new EnvironmentError('CONTROL_PLANE_STOPPED', `control plane ${this.name} is not running; its signing key can only be rotated while it runs`);
    const apiserver = this.component('kube-apiserver');
    const kcm = this.component('kube-controller-manager');
    if (!apiserver || !kcm) throw new EnvironmentError('CONTROL_PLANE_DEGRADED', `control plane ${this.name} has no running ${apiserver ? 'kube-controller-manager' : 'kube-apiserver'}; see its log in ${this.root}/logs`);
    const timeout = { timeoutMs: ctx.timeout.timeoutMs, ...(options.signal ? { signal: options.signal } : {}) };
    const generation = this.signingKeyGeneration + 1;
    const oldPub = this.layout.pki.serviceAccountPub;
    const next = await createServiceAccountKeyPair(path.dirname(oldPub), `sa-${generation}`);
    this.layout.pki.serviceAccountKey = next.key;
    this.layout.pki.serviceAccountPub = next.pub;
    this.signingKeyGeneration = generation;
    debug('%s: service-account signing key %d written; restarting kube-apiserver', this.name, generation);

    options.onPhase?.('apiserver-stopping');
    // Durations on the monotonic clock: a wall-clock step must not shorten a measured outage.
    const t0 = performance.now();
    // It closes its port at once, then waits (up to its 60 s shutdown timeout) for open watch
    // streams of the components and nodes to end, which they never do on their own (seen: still
    // running after 10 s): killed after a short grace, so the outage is not that wait.
    await apiserver.stop(APISERVER_STOP_GRACE_MS);
    const stopMs = Math.round(performance.now() - t0);
    const killed = apiserver.exit?.signal === 'SIGKILL';
    options.onPhase?.('apiserver-stopped');
    const restarted = this.spawn('kube-apiserver', 'kube-apiserver', apiserverArgs(this.layout));
    await waitForHealthy(restarted, { url: `${this.server}/readyz`, ca: ctx.pki.caPem, token: ctx.adminToken }, timeout);
    const outageMs = Math.ceil(performance.now() - t0);
    options.onPhase?.('apiserver-ready');

    const t1 = performance.now();
    await kcm.stop();
    const newKcm = this.spawn('kube-controller-manager', 'kube-controller-manager', controllerManagerArgs(this.layout, ctx.tuning));
    await waitForHealthy(newKcm, { url: `https://127.0.0.1:${this.layout.ports.controllerManager}/healthz`, insecure: true, token: ctx.adminToken }, timeout);
    const restartMs = Math.ceil(performance.now() - t1);
    options.onPhase?.('controller-manager-ready');
    debug('%s: signing key %d in use; apiserver out for %d ms, controller manager restarted in %d ms', this.name, generation, outageMs, restartMs);
    return {
      generation,
      publicKeyFile: path.basename(next.pub),
      oldKeyFingerprint: await publicKeyFingerprint(oldPub),
      newKeyFingerprint: await publicKeyFingerprint(next.pub),
      apiserver: { oldPid: apiserver.pid, newPid: restarted.pid, stopMs, stoppedBy: killed ? `SIGKILL after ${APISERVER_STOP_GRACE_MS / 1000} s of SIGTERM` : 'SIGTERM', outageMs },
      controllerManager: { oldPid: kcm.pid, newPid: newKcm.pid, restartMs },
    };
  }

  private requireAgent(node: string): { spec: NodeAgentSpec; process?: SupervisedProcess } {
    const agent = this.agents.get(node);
    if (!agent) throw new InputError('UNKNOWN_NODE', `"${node}" is not a fake node of this cluster (${this.fakeNodeNames.join(', ')})`);
    return agent;
  }

  dispose(): Promise<void> {
    this.disposing ??= this.stopAll();
    return this.disposing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }

  private async stopAll(): Promise<void> {
    // Real nodes first: their pods die with them, before the apiserver could be asked about them.
    for (const node of [...this.realNodes.values()].reverse()) {
      await node.dispose().catch((e: unknown) => debug('dispose node %s: %s', node.name, String(e)));
    }
    await removeCgroupTree(this.cgroupParent).catch((e: unknown) => debug('cgroups of %s: %s', this.name, String(e)));
    // Reverse start order: node agents and controllers before the apiserver, the apiserver before etcd.
    for (const p of [...this.processes].reverse()) {
      await p.stop().catch((e: unknown) => debug('stop %s: %s', p.name, String(e)));
    }
    if (!this.kubeconfigPath.startsWith(this.root + path.sep) && existsSync(this.kubeconfigPath)) {
      await rm(this.kubeconfigPath, { force: true });
    }
    await rm(this.root, { recursive: true, force: true });
    debug('control plane %s stopped and removed', this.name);
  }
}

async function newLayout(root: string): Promise<ControlPlaneLayout> {
  await mkdir(path.join(root, 'logs'));
  const port = freeLoopbackPort;
  const p = (name: string) => path.join(root, name);
  return {
    root,
    ports: {
      etcdClient: await port(),
      etcdPeer: await port(),
      apiserver: await port(),
      controllerManager: await port(),
      scheduler: await port(),
    },
    kubeletClient: { cert: p('pki/apiserver-kubelet-client.crt'), key: p('pki/apiserver-kubelet-client.key') },
    pki: {
      caCert: p('pki/ca.crt'),
      caKey: p('pki/ca.key'),
      apiserverCert: p('pki/apiserver.crt'),
      apiserverKey: p('pki/apiserver.key'),
      serviceAccountKey: p('pki/sa.key'),
      serviceAccountPub: p('pki/sa.pub'),
    },
    etcdDataDir: p('etcd'),
    tokenFile: p('tokens.csv'),
    auditPolicyFile: p('audit-policy.yaml'),
    auditLogPath: p('logs/audit.log'),
    kwokConfig: p('kwok.yaml'),
    kubeconfigs: {
      controllerManager: p('controller-manager.kubeconfig'),
      scheduler: p('scheduler.kubeconfig'),
      kwok: p('kwok.kubeconfig'),
    },
  };
}

async function waitForDefaultServiceAccount(kc: KubeConfig, namespace: string, options: { timeoutMs: number; signal?: AbortSignal }): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    options.signal?.throwIfAborted();
    const found = await core.readNamespacedServiceAccount({ name: 'default', namespace }).then(
      () => true,
      () => false,
    );
    if (found) return;
    if (Date.now() > deadline) {
      throw new EnvironmentError(
        'SERVICE_ACCOUNT_MISSING',
        `the controller manager did not create the "default" service account in "${namespace}" within ${options.timeoutMs / 1000}s; see its log`,
      );
    }
    await sleep(250, options.signal);
  }
}
