import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { sleep } from '../engine/clock.js';
import { asDrillError, DrillError, EnvironmentError, InputError, InterruptedError, type ErrorKind } from '../engine/errors.js';
import { reapResources } from '../engine/reaper.js';
import { ResourceLedger } from '../engine/resource-ledger.js';
import {
  checkClusterName,
  clusterFiles,
  keeperAlive,
  listClusterNames,
  readClusterState,
  writeClusterState,
  type ClusterFiles,
  type ClusterState,
} from './cluster-state.js';
import type { LocalControlPlane as LocalControlPlaneType } from '../targets/kubernetes/local-control-plane.js';
import { PACKAGE_ROOT } from './package-root.js';
import { clusterNetworkFile } from '../engine/drill-network-plan.js';
import { buildNodeImages } from '../targets/kubernetes/real-nodes/node-images.js';
import { DrillNetwork, enterNetwork } from '../targets/network/drill-network.js';
import { networkName } from '../targets/network/layout.js';
import { childEnvironment, HARNESS_SETTINGS, NODE_VARIABLES } from '../targets/process/child-environment.js';

interface UpOptions {
  local: boolean;
  name: string;
  /** Fake nodes; without it and without --real-nodes: 2 real nodes. */
  nodes?: string;
  realNodes?: string;
  build: boolean;
  foreground: boolean;
}

const START_TIMEOUT_MS = 5 * 60_000;
const STOP_TIMEOUT_MS = 60_000;

/**
 * `drill cluster up|down|list`: a local Kubernetes cluster (real etcd, kube-apiserver, controller
 * manager and scheduler on loopback; real kubelet nodes and/or kwok nodes) for trying runbook steps by hand. `up` leaves it
 * running in the background, like `kind create cluster`, kept by a detached `cluster keep`
 * process whose state is in ~/.cache/drill/clusters/<name>/; `down` stops it.
 */
export function registerClusterCommands(program: Command, setExitCode: (code: number) => void): void {
  const cluster = program
    .command('cluster')
    .description('a local Kubernetes cluster (real control plane; real kubelet nodes, or nodes simulated by kwok) to try runbook steps on');

  cluster
    .command('up')
    .description('start a cluster in the background and print its kubeconfig (`export KUBECONFIG=...`); exit 3 when it cannot start')
    .option('--local', 'etcd, kube-apiserver, controller manager and scheduler on loopback, with real and/or kwok nodes (the default)', true)
    .option('--name <name>', 'cluster name; several can run side by side', 'default')
    .option('--nodes <n>', 'fake (kwok) nodes, spread over zone-a, zone-b, zone-c (default: none beside real nodes)')
    .option('--real-nodes <n>', 'real nodes (containerd + kubelet, TrustStram images imported; needs root; default 2, or 0 when only --nodes is given)')
    .option('--build', 'build the control-plane binaries first if they are not built (about 12 minutes on a cold machine)', false)
    .option('--foreground', 'keep the cluster in this terminal until Ctrl-C instead of detaching', false)
    .action(async (opts: UpOptions) => setExitCode(await clusterUp(opts)));

  // What `up` starts (detached, or attached with --foreground), inside the cluster's drill network
  // when it has real nodes: keeps the cluster until SIGTERM/SIGINT. Not for people to call.
  cluster
    .command('keep', { hidden: true })
    .option('--name <name>', 'cluster name', 'default')
    .option('--nodes <n>', 'fake nodes')
    .option('--real-nodes <n>', 'real nodes')
    .option('--build', 'build missing binaries', false)
    .action(async (opts: UpOptions) => setExitCode(await clusterKeep(opts)));

  cluster
    .command('down')
    .description('stop a cluster started by `cluster up` and remove its files (also cleans up after a killed one)')
    .option('--name <name>', 'cluster name', 'default')
    .action(async (opts: { name: string }) => setExitCode(await clusterDown(opts.name)));

  cluster
    .command('exec')
    .description('run a command inside a cluster\'s drill network with its KUBECONFIG (a cluster with real nodes is reachable only from there)')
    .option('--name <name>', 'cluster name', 'default')
    .argument('<command...>', 'the command and its arguments (put -- before options of the command)')
    .action(async (command: string[], opts: { name: string }) => setExitCode(await clusterExec(opts.name, command)));

  cluster
    .command('list')
    .description('clusters started by `cluster up`, whether they run, and their kubeconfig')
    .action(() => setExitCode(clusterList()));
}

function parseCount(flag: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new InputError('BAD_NODE_COUNT', `${flag} must be a whole number from ${min} to ${max} (got "${value}")`);
  return n;
}

/** The nodes asked for: `--nodes` alone keeps the fake-only cluster of earlier versions. */
function parseNodes(opts: UpOptions): { fake: number; real: number } {
  const real = opts.realNodes !== undefined ? parseCount('--real-nodes', opts.realNodes, 0, 4) : opts.nodes !== undefined ? 0 : 2;
  const fake = opts.nodes !== undefined ? parseCount('--nodes', opts.nodes, 0, 50) : real > 0 ? 0 : 3;
  if (real + fake < 1) throw new InputError('BAD_NODE_COUNT', 'a cluster needs at least one node: give --real-nodes or --nodes');
  return { fake, real };
}

function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:@%+=-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

function printReady(state: ClusterState): void {
  const nodes = state.nodes ?? [];
  const real = state.realNodes ?? [];
  const described = [real.length > 0 ? `${real.length} real node(s) (${real.join(', ')})` : '', nodes.length > 0 ? `${nodes.length} fake node(s) (${nodes.join(', ')})` : '']
    .filter(Boolean)
    .join(', ');
  console.log(`cluster "${state.name}" is up: ${described}, API ${state.server}, kept by pid ${state.pid}`);
  console.log(`  kubeconfig  ${state.kubeconfig} (context ${state.context})`);
  if (state.auditLog) console.log(`  audit log   ${state.auditLog}`);
  if (state.logsDir) console.log(`  logs        ${state.logsDir}`);
  if (state.network) {
    // Its API and pods are addresses of the cluster's drill network, reachable only from inside it.
    console.log(`  network     ${state.network} (a network namespace with no route out)`);
    console.log(`run commands in it: npx drill cluster exec${state.name === 'default' ? '' : ` --name ${state.name}`} -- kubectl get nodes`);
  } else {
    console.log(`export KUBECONFIG=${shellQuote(state.kubeconfig)}`);
  }
}

function downCommand(name: string): string {
  return `npx drill cluster down${name === 'default' ? '' : ` --name ${name}`}`;
}

function logTail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** A previous cluster of this name whose keeper is gone: stop what it left and remove its files. */
async function cleanUpStale(files: ClusterFiles): Promise<void> {
  const reaped = await reapResources(files.resources);
  if (reaped.length > 0) console.error(`cleaned up what a previous cluster left: ${reaped.join(', ')}`);
  for (const f of [files.state, files.kubeconfig, files.resources, clusterNetworkFile(files.kubeconfig)]) rmSync(f, { force: true });
}

/** When a cluster of this name is already running: say so and return its exit code, else undefined. */
function alreadyRunning(files: ClusterFiles, name: string): number | undefined {
  const existing = readClusterState(files);
  if (!existing || existing.pid === process.pid || !keeperAlive(existing)) return undefined;
  if (existing.status !== 'ready') {
    throw new InputError('CLUSTER_STARTING', `cluster "${name}" is being started by pid ${existing.pid}; wait for it, or stop it: ${downCommand(name)}`);
  }
  console.error(`cluster "${name}" is already running`);
  printReady(existing);
  return 0;
}

/** `cluster up`: checks the binaries here (so a missing build is reported at once), then detaches a keeper. */
async function clusterUp(opts: UpOptions): Promise<number> {
  const name = checkClusterName(opts.name);
  const nodes = parseNodes(opts);
  const files = clusterFiles(name);
  const running = alreadyRunning(files, name);
  if (running !== undefined) return running;
  if (existsSync(files.dir)) await cleanUpStale(files);
  const state = await startCluster(files, name, nodes, opts);
  // --foreground: the keeper's exit code, once it ended.
  if (typeof state === 'number') return state;
  printReady(state);
  console.log(`stop it with: ${downCommand(name)}`);
  return 0;
}

/**
 * `drill run`'s shared control plane (src/cli/shared-cluster-plan.ts): what `cluster up --local
 * --name <name>` starts, detached, kept by the same keeper; stopped by `stopLocalCluster`. Throws
 * (exit 3, or interrupted on Ctrl-C) when it does not become ready; nothing of it is left then.
 */
export async function startLocalCluster(name: string, nodes: { fake: number; real: number }): Promise<ClusterState> {
  const files = clusterFiles(checkClusterName(name));
  if (existsSync(files.dir)) await cleanUpStale(files);
  return (await startCluster(files, name, nodes, { build: false, foreground: false })) as ClusterState;
}

/** Starts the keeper and waits until the cluster is ready; with --foreground, keeps it attached and returns its exit code once it ended. */
async function startCluster(files: ClusterFiles, name: string, nodes: { fake: number; real: number }, opts: Pick<UpOptions, 'build' | 'foreground'>): Promise<ClusterState | number> {
  const { requireKubelet, resolveControlPlaneBinaries } = await import('../targets/kubernetes/control-plane-binaries.js');
  const binaries = await resolveControlPlaneBinaries({ allowBuild: opts.build, onProgress: (line) => console.error(line) });
  if (nodes.real > 0) requireKubelet(binaries);

  mkdirSync(files.dir, { recursive: true });
  // Real nodes live in a drill network of the cluster's own; the keeper runs inside it. `down` (or
  // the reaper, from the cluster's ledger) removes it.
  let enter: string[] = [];
  if (nodes.real > 0) {
    const ledger = new ResourceLedger(files.resources);
    const network = await DrillNetwork.create(networkName('cluster', name), (r) => ledger.record(r));
    writeFileSync(clusterNetworkFile(files.kubeconfig), `${network.name}\n`);
    enter = enterNetwork(network.name);
  }
  const keeperArgs = [path.join(PACKAGE_ROOT, 'bin/drill.mjs'), 'cluster', 'keep', '--name', name, '--nodes', String(nodes.fake), '--real-nodes', String(nodes.real)];
  const [file, ...args] = [...enter, process.execPath, ...keeperArgs];
  if (opts.foreground) return keepAttached(files, name, file!, args, binaries.dir);
  const log = openSync(files.log, 'a');
  // Its own session: it outlives this command and a Ctrl-C at this terminal does not reach it.
  const child = spawn(file!, args, {
    cwd: PACKAGE_ROOT,
    detached: true,
    stdio: ['ignore', log, log],
    // A drill node process: its debug namespaces and the harness's settings, nothing else of ours.
    env: childEnvironment({ pass: [...NODE_VARIABLES, ...HARNESS_SETTINGS], set: { DRILL_CONTROL_PLANE_BIN: binaries.dir } }),
  });
  closeSync(log);
  child.unref();
  const keeperPid = child.pid!;
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  child.on('exit', (code, signal) => (exit = { code, signal }));
  console.error(`starting cluster "${name}" (pid ${keeperPid}, log ${files.log})...`);

  let interrupted = false;
  const onInterrupt = () => (interrupted = true);
  process.on('SIGINT', onInterrupt);
  process.on('SIGTERM', onInterrupt);
  try {
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      const state = readClusterState(files);
      if (state?.pid === keeperPid && state.status === 'ready') return state;
      if (exit || state?.status === 'failed') {
        const failed = state?.pid === keeperPid ? state.error : undefined;
        await stopKeeper(files, keeperPid);
        if (failed) throw new DrillError(failed.code, `${failed.message}\n(cluster log: ${files.log})`, failed.kind as ErrorKind);
        throw new EnvironmentError(
          'CLUSTER_START_FAILED',
          `the process keeping cluster "${name}" ended (${exit?.signal ?? `exit ${exit?.code}`}) before the cluster was ready; its log (${files.log}) ends:\n${logTail(files.log)}`,
        );
      }
      if (interrupted || Date.now() > deadline) {
        await stopKeeper(files, keeperPid);
        if (interrupted) throw new InterruptedError(`interrupted; cluster "${name}" was stopped and removed`);
        throw new EnvironmentError('CLUSTER_START_TIMEOUT', `cluster "${name}" was not ready within ${START_TIMEOUT_MS / 60_000} minutes; its log (${files.log}) ends:\n${logTail(files.log)}`);
      }
      await sleep(200);
    }
  } finally {
    process.off('SIGINT', onInterrupt);
    process.off('SIGTERM', onInterrupt);
  }
}

/**
 * `up --foreground`: the keeper attached to this terminal; Ctrl-C (or SIGTERM) stops it, then what
 * it leaves (the drill network) is reaped and the cluster's files removed.
 */
async function keepAttached(files: ClusterFiles, name: string, file: string, args: string[], binDir: string): Promise<number> {
  const child = spawn(file, args, {
    cwd: PACKAGE_ROOT,
    stdio: 'inherit',
    env: childEnvironment({ pass: [...NODE_VARIABLES, ...HARNESS_SETTINGS], set: { DRILL_CONTROL_PLANE_BIN: binDir } }),
  });
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  try {
    const code = await new Promise<number>((resolve) => child.on('exit', (c, sig) => resolve(c ?? (sig ? 130 : 1))));
    const reaped = await reapResources(files.resources);
    if (reaped.length > 0) console.error(`cluster ${name}: removed ${reaped.join(', ')}`);
    rmSync(files.dir, { recursive: true, force: true });
    return code;
  } finally {
    process.off('SIGINT', forward);
    process.off('SIGTERM', forward);
  }
}

/** SIGTERM to the keeper (it stops the cluster), SIGKILL if it hangs, then reap what is left. The log stays. */
async function stopKeeper(files: ClusterFiles, pid: number): Promise<string[]> {
  const state = readClusterState(files);
  const recorded = state && state.pid === pid ? state : undefined;
  // The keeper wrote its state: check it is still that process; otherwise all we have is the pid.
  const alive = () => (recorded ? keeperAlive(recorded) : processExists(pid));
  if (alive()) {
    process.kill(pid, 'SIGTERM');
    const deadline = Date.now() + STOP_TIMEOUT_MS;
    while (alive() && Date.now() < deadline) await sleep(200);
    if (alive()) process.kill(pid, 'SIGKILL');
  }
  const reaped = await reapResources(files.resources);
  for (const f of [files.state, files.kubeconfig, files.resources, clusterNetworkFile(files.kubeconfig)]) rmSync(f, { force: true });
  return reaped;
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * `cluster keep` (what `up` starts, inside the drill network when there are real nodes): starts
 * the cluster, records its state, and stops it on Ctrl-C / SIGTERM (`cluster down`). What it
 * cannot remove from inside the drill network (the network itself, whose guard route is in the
 * namespace `up` ran in) stays in the ledger for `down` or `up --foreground` to reap.
 */
async function clusterKeep(opts: UpOptions): Promise<number> {
  const name = checkClusterName(opts.name);
  const nodes = parseNodes(opts);
  const files = clusterFiles(name);
  const running = alreadyRunning(files, name);
  if (running !== undefined) return running;
  // A keeper started by `up` finds its network already made (and named beside the kubeconfig).
  const network = existsSync(clusterNetworkFile(files.kubeconfig)) ? readFileSync(clusterNetworkFile(files.kubeconfig), 'utf8').trim() : undefined;
  if (existsSync(files.state)) await cleanUpStale(files);
  mkdirSync(files.dir, { recursive: true });

  const base = {
    name,
    pid: process.pid,
    match: process.argv.slice(2).join(' '),
    kubeconfig: files.kubeconfig,
    startedAt: new Date().toISOString(),
  };
  writeClusterState(files, { ...base, status: 'starting' });
  const abort = new AbortController();
  const stopRequested = new Promise<void>((resolve) => {
    const stop = () => {
      abort.abort(new InterruptedError());
      resolve();
    };
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(signal, stop);
  });

  const { LocalControlPlane } = await import('../targets/kubernetes/local-control-plane.js');
  let cp: LocalControlPlaneType | undefined;
  try {
    cp = await LocalControlPlane.start(
      {
        runId: `cluster-${name}`,
        ledger: new ResourceLedger(files.resources),
        nodes: nodes.fake,
        realNodes: nodes.real,
        ...(nodes.real > 0 ? { nodeImages: await buildNodeImages() } : {}),
        allowBuild: opts.build,
        kubeconfigPath: files.kubeconfig,
        signal: abort.signal,
        onProgress: (m) => console.error(`cluster ${name}: ${m}`),
      },
      (c) => (cp = c),
    );
  } catch (error) {
    await cp?.dispose();
    const e = abort.signal.aborted ? new InterruptedError(`interrupted; cluster "${name}" was stopped and removed`) : asDrillError(error);
    writeClusterState(files, { ...base, status: 'failed', error: { code: e.code, message: e.message, kind: e.kind } });
    throw e;
  }
  const ready: ClusterState = {
    ...base,
    status: 'ready',
    context: cp.context,
    server: cp.server,
    nodes: cp.fakeNodeNames,
    realNodes: cp.realNodeNames,
    ...(network ? { network } : {}),
    auditLog: cp.auditLogPath,
    logsDir: path.dirname(cp.auditLogPath),
  };
  writeClusterState(files, ready);
  printReady(ready);
  console.error(`cluster "${name}" runs until Ctrl-C or \`${downCommand(name)}\``);
  await stopRequested;
  console.error(`stopping cluster "${name}"...`);
  await cp.dispose();
  for (const f of [files.state, files.kubeconfig]) rmSync(f, { force: true });
  console.error(`cluster "${name}" stopped`);
  return 0;
}

/** `cluster down`: idempotent; also cleans up after a keeper that was killed. */
async function clusterDown(nameOption: string): Promise<number> {
  const name = checkClusterName(nameOption);
  const files = clusterFiles(name);
  if (!existsSync(files.dir)) {
    console.log(`no cluster "${name}" (nothing in ${files.dir})`);
    return 0;
  }
  const state = readClusterState(files);
  if (state && keeperAlive(state)) console.error(`stopping cluster "${name}" (pid ${state.pid})...`);
  const { left, network } = await stopLocalCluster(files);
  if (left.length > 0) console.log(`cleaned up what was left running: ${left.join(', ')}`);
  if (network.length > 0) console.log(`removed its drill network: ${network.join(', ')}`);
  console.log(`cluster "${name}" is down`);
  return 0;
}

/**
 * Stops a cluster `cluster up` (or `drill run`'s shared control plane) started: its keeper, then
 * what is left of it (also after the keeper was killed), then its directory. Idempotent. Returns
 * what had to be removed besides the keeper: leftovers, and the cluster's own drill network.
 */
export async function stopLocalCluster(files: ClusterFiles): Promise<{ left: string[]; network: string[] }> {
  if (!existsSync(files.dir)) return { left: [], network: [] };
  const state = readClusterState(files);
  const reaped = state ? await stopKeeper(files, state.pid) : await reapResources(files.resources);
  // The drill network is the cluster's own, removed here by design: the keeper, inside it, cannot.
  const network = reaped.filter((what) => what.startsWith('netns ') || what.startsWith('guard route '));
  rmSync(files.dir, { recursive: true, force: true });
  return { left: reaped.filter((what) => !network.includes(what)), network };
}

/** `cluster exec`: a command inside the cluster's drill network (or here, for a fake-node cluster) with its KUBECONFIG. */
async function clusterExec(nameOption: string, command: string[]): Promise<number> {
  const name = checkClusterName(nameOption);
  const files = clusterFiles(name);
  const state = readClusterState(files);
  if (!state || !keeperAlive(state) || state.status !== 'ready') {
    throw new InputError('CLUSTER_NOT_RUNNING', `cluster "${name}" is not running; start it: npx drill cluster up${name === 'default' ? '' : ` --name ${name}`}`);
  }
  const [file, ...args] = [...(state.network ? enterNetwork(state.network) : []), ...command];
  // The user's own command: their environment, pointed at the cluster.
  const child = spawn(file!, args, { stdio: 'inherit', env: childEnvironment({ pass: ['*'], set: { KUBECONFIG: state.kubeconfig } }) });
  return new Promise((resolve) => {
    child.on('error', (error) => {
      console.error(`drill cluster exec: could not run ${command[0]}: ${error.message}`);
      resolve(127);
    });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

function clusterList(): number {
  const names = listClusterNames();
  if (names.length === 0) console.log('no clusters (start one: npx drill cluster up --local)');
  for (const name of names) {
    const state = readClusterState(clusterFiles(name));
    const running = state && keeperAlive(state) ? `${state.status}, pid ${state.pid}` : 'not running';
    console.log(`${name.padEnd(20)} ${running.padEnd(20)} ${state?.kubeconfig ?? ''}`);
  }
  return 0;
}
