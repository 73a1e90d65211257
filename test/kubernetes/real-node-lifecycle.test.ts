import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { reapRecorded } from '../../src/engine/reaper.js';
import { readResources, ResourceLedger } from '../../src/engine/resource-ledger.js';
import { LocalControlPlane } from '../../src/targets/kubernetes/local-control-plane.js';
import { cgroupV1Mounts } from '../../src/targets/kubernetes/real-nodes/cgroup-root.js';
import { buildNodeImages } from '../../src/targets/kubernetes/real-nodes/node-images.js';
import { recordedProcessAlive } from '../../src/targets/kubernetes/recorded-process.js';
import { ip } from '../../src/targets/network/ip-command.js';
import { runCommand } from '../../src/targets/process/run-command.js';
import { waitUntil } from './helpers.js';
import { recordedTestDir, removeRecordedTestDir } from '../support/recorded-test-dir.js';

// Real nodes of their own (not the shared cluster's): these tests kill and dispose them.
const tmp = recordedTestDir('drill-real-node-test-');
afterAll(() => removeRecordedTestDir(tmp));

/** The host settings kubelet rewrites on a machine it runs on (pkg/kubelet/cm setupKernelTunables). */
const KUBELET_TUNABLES = ['vm/overcommit_memory', 'vm/panic_on_oom', 'kernel/panic', 'kernel/panic_on_oops', 'kernel/keys/root_maxkeys', 'kernel/keys/root_maxbytes'];
/** What kubelet sets them to. */
const KUBELET_WANTS: Record<string, string> = { 'vm/overcommit_memory': '1', 'vm/panic_on_oom': '0', 'kernel/panic': '10', 'kernel/panic_on_oops': '1', 'kernel/keys/root_maxkeys': '1000000', 'kernel/keys/root_maxbytes': '25000000' };
const hostTunables = () => Object.fromEntries(KUBELET_TUNABLES.map((k) => [k, readFileSync(`/proc/sys/${k}`, 'utf8').trim()]));

/** What a cluster with real nodes leaves: live recorded processes, cgroup directories, mounts under its root. */
function leftovers(ledgerFile: string, root: string, cgroupParent: string): string[] {
  const left: string[] = [];
  for (const r of readResources(ledgerFile)) {
    if (r.kind === 'process' && recordedProcessAlive(r.pid, r.match)) left.push(`process ${r.name} (pid ${r.pid})`);
    if (r.kind === 'temp-dir' && existsSync(r.path)) left.push(`dir ${r.path}`);
  }
  for (const mount of cgroupV1Mounts()) if (existsSync(path.join(mount, cgroupParent))) left.push(`cgroup ${path.join(mount, cgroupParent)}`);
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) if (line.includes(root)) left.push(`mount ${line.split(' ')[4]}`);
  return left;
}

/** The pids in every cgroup below `dir` (a cgroup v1 directory). */
function tasksBelow(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? [...readFileSync(path.join(dir, entry.name, 'tasks'), 'utf8').split('\n').filter(Boolean), ...tasksBelow(path.join(dir, entry.name))] : [],
  );
}

describe('real nodes', () => {
  it('this test run is in a drill network without a route out', async () => {
    const here = JSON.parse((await ip(['-4', '-j', 'route', 'show'])).stdout) as { dst: string }[];
    expect(here.map((r) => r.dst)).not.toContain('default');
    expect(here.length).toBeGreaterThan(0);
    expect(here.every((r) => r.dst.startsWith('198.18.') || r.dst.startsWith('198.19.'))).toBe(true);
    // Nothing outside the drill range is routable from here (the machine's own gateway included).
    expect((await ip(['-4', 'route', 'get', '192.0.2.1'], [0, 2])).code).toBe(2);
    expect((await ip(['-4', 'route', 'get', '8.8.8.8'], [0, 2])).code).toBe(2);
  });

  it('a node runs real containers, kubelet rewrites only its own copies of the kernel settings, and dispose leaves nothing', { timeout: 300_000 }, async () => {
    const before = hostTunables();
    const ledgerFile = path.join(tmp, 'lifecycle.jsonl');
    const cp = await LocalControlPlane.start({ runId: 'real-node-lifecycle', ledger: new ResourceLedger(ledgerFile), nodes: 0, realNodes: 1, nodeImages: await buildNodeImages() });
    const cgroupParent = `drill-${cp.name}`;
    try {
      const [name] = cp.realNodeNames;
      const node = cp.realNode(name!)!;
      // Inside the node, kubelet set what it wants (the negative control: it did write them) ...
      // (kubelet writes a value without a newline: one file at a time.)
      const inside: string[] = [];
      for (const k of KUBELET_TUNABLES) inside.push((await runCommand('nsenter', [`--target=${node.sandboxInitPid}`, '--mount', '--', 'cat', `/proc/sys/${k}`])).stdout.trim());
      expect(inside).toEqual(KUBELET_TUNABLES.map((k) => KUBELET_WANTS[k]));
      // ... and the machine's are as they were.
      expect(hostTunables()).toEqual(before);

      // A real container from the imported image answers over the pod network.
      const core = cp.connect().makeApiClient(CoreV1Api);
      await core.createNamespacedPod({
        namespace: 'default',
        body: {
          metadata: { name: 'livez' },
          spec: {
            containers: [{ name: 'api', image: 'drill.local/truststream:4.4.0', imagePullPolicy: 'Never', args: ['api'], env: [{ name: 'BIND', value: '0.0.0.0' }, { name: 'DATABASE_URL', value: 'postgresql://u:p@198.18.0.1:1/d' }] }],
          },
        },
      });
      const podIp = await waitUntil('the pod to run', async () => {
        const pod = await core.readNamespacedPod({ name: 'livez', namespace: 'default' });
        return pod.status?.phase === 'Running' ? pod.status.podIP : undefined;
      }, 120_000);
      expect(podIp).toMatch(/^198\.19\.\d+\.\d+$/);
      const livez = await waitUntil('/livez', async () => fetch(`http://${podIp}:8080/livez`).then((r) => (r.ok ? r.status : undefined), () => undefined));
      expect(livez).toBe(200);
      // The cluster's pods weigh as much as the machine's CPUs against its other processes, and
      // the pod runs below that weight.
      const cpuMount = cgroupV1Mounts().find((m) => existsSync(path.join(m, cgroupParent, 'cpu.shares')))!;
      expect(readFileSync(path.join(cpuMount, cgroupParent, 'cpu.shares'), 'utf8').trim()).toBe(String(1024 * availableParallelism()));
      expect(tasksBelow(path.join(cpuMount, cgroupParent)).length).toBeGreaterThan(0);
      // Its log reaches the apiserver through the kubelet (the runbook's `kubectl logs`).
      expect(await core.readNamespacedPodLog({ name: 'livez', namespace: 'default' })).toContain('listening');

      // A kubelet crash: the node goes NotReady; the container keeps running.
      await node.stopKubelet('kill');
      expect(await fetch(`http://${podIp}:8080/livez`).then((r) => r.status)).toBe(200);
      await node.startKubelet();
    } finally {
      await cp.dispose();
    }
    expect(hostTunables()).toEqual(before);
    expect(leftovers(ledgerFile, cp.root, cgroupParent)).toEqual([]);
  });

  it('after kill -9 of its owner, the reaper removes the node, its containers and its cgroups from the ledger alone', { timeout: 300_000 }, async () => {
    const ledgerFile = path.join(tmp, 'killed.jsonl');
    const owner = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, '../support/real-node-owner.ts'), ledgerFile], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    owner.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const started = await waitUntil('the owner to start a node with a pod', async () => (/^ready (\S+) (\S+)$/m.exec(out) ?? undefined), 240_000);
    const [, root, cgroupParent] = started;
    owner.kill('SIGKILL');
    await new Promise((r) => owner.on('exit', r));
    expect(leftovers(ledgerFile, root!, cgroupParent!).length).toBeGreaterThan(0);
    const report = await reapRecorded(readResources(ledgerFile));
    expect(report.left).toEqual([]);
    expect(leftovers(ledgerFile, root!, cgroupParent!)).toEqual([]);
  });
});
