/**
 * `npm run bench:nodes [-- --runs 3 --out bench/results/nodes.json]`
 * Real Kubernetes nodes on this machine (root, containerd, kubelet built: `npm run setup:all`),
 * each run in a drill network of its own (run it through `tsx tools/with-drill-network.ts`, as the
 * npm script does):
 * - node start: one real node, from nothing to Ready (sandbox, containerd, image import, kubelet,
 *   registration), beside the control plane's own start;
 * - node images: build of the pause and TrustStram images (warm cache after the first run);
 * - kill to ready: a TrustStram API pod is deleted (grace 0) and the time until its replacement is
 *   Ready and answers /health on its pod address; and a container crash (SIGKILL of the service
 *   process in the container) until the restarted container answers again.
 * Every sample is reported with the median; compare within one run, machines here are noisy.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { AppsV1Api, CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { reapResources } from '../src/engine/reaper.js';
import { ResourceLedger } from '../src/engine/resource-ledger.js';
import { LocalControlPlane } from '../src/targets/kubernetes/local-control-plane.js';
import { buildNodeImages } from '../src/targets/kubernetes/real-nodes/node-images.js';
import { childPids } from '../src/targets/kubernetes/real-nodes/node-sandbox.js';
import { inDrillNetwork } from '../src/targets/network/in-drill-network.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' }, out: { type: 'string', default: 'bench/results/nodes.json' } } });
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) {
  console.error('usage: npm run bench:nodes -- --runs 3 --out bench/results/nodes.json');
  process.exit(2);
}
if (!(await inDrillNetwork())) {
  console.error('bench:nodes runs in a drill network: npm run bench:nodes (it wraps itself in tools/with-drill-network.ts)');
  process.exit(2);
}

const samples: Record<string, number[]> = {};
const record = (name: string, ms: number) => (samples[name] ??= []).push(Math.round(ms));
async function timed<T>(name: string, work: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  const result = await work();
  record(name, performance.now() - t0);
  return result;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(what: string, check: () => Promise<boolean>, everyMs: number, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}
const isReady = (p: V1Pod) => p.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';

async function healthy(ip: string): Promise<boolean> {
  return fetch(`http://${ip}:8080/livez`, { signal: AbortSignal.timeout(1000) }).then((r) => r.ok, () => false);
}

/** Until a Ready pod of `app=bench` other than `except` answers; its name and address. */
async function waitForServingPod(core: CoreV1Api, except: string | undefined, timeoutMs = 120_000): Promise<{ name: string; ip: string }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pods = (await core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=bench' })).items;
    for (const p of pods) {
      if (p.metadata?.name === except || p.metadata?.deletionTimestamp || !isReady(p) || !p.status?.podIP) continue;
      if (await healthy(p.status.podIP)) return { name: p.metadata!.name!, ip: p.status.podIP };
    }
    if (Date.now() > deadline) {
      const seen = pods.map((p) => `${p.metadata?.name} ${p.status?.phase} ready=${isReady(p)} ip=${p.status?.podIP} ${JSON.stringify(p.status?.containerStatuses?.[0]?.state)}`);
      throw new Error(`no serving pod within ${timeoutMs / 1000}s: ${seen.join('; ')}`);
    }
    await sleep(50);
  }
}

const tmp = mkdtempSync(path.join(os.tmpdir(), 'drill-bench-nodes-'));
const ledgerFile = path.join(tmp, 'resources.jsonl');
try {
  for (let run = 0; run < runs; run++) {
    console.error(`bench: nodes, run ${run + 1}/${runs}…`);
    const nodeImages = await timed('nodeImagesMs', () => buildNodeImages());
    const ledger = new ResourceLedger(ledgerFile);
    // A control plane without nodes, then one real node joining, each timed on its own.
    const cp = await timed('controlPlaneStartMs', () => LocalControlPlane.start({ runId: `bench-nodes-${run}`, ledger, nodes: 0, nodeImages }));
    try {
      const node = await timed('realNodeStartMs', () => cp.addNode(undefined, 'zone-a', { kind: 'real' }));
      const core = cp.connect().makeApiClient(CoreV1Api);
      // A dependency-free TrustStram pod: /livez needs no database.
      await cp.connect().makeApiClient(AppsV1Api).createNamespacedDeployment({
        namespace: 'default',
        body: {
          metadata: { name: 'bench' },
          spec: {
            replicas: 1,
            selector: { matchLabels: { app: 'bench' } },
            template: {
              metadata: { labels: { app: 'bench' } },
              spec: {
                nodeName: node,
                terminationGracePeriodSeconds: 0,
                containers: [
                  {
                    name: 'api',
                    image: 'drill.local/truststream:4.4.0',
                    imagePullPolicy: 'Never',
                    args: ['api'],
                    env: [{ name: 'BIND', value: '0.0.0.0' }, { name: 'DATABASE_URL', value: 'postgresql://u:p@198.18.0.1:1/d' }],
                    readinessProbe: { httpGet: { path: '/livez', port: 8080 }, periodSeconds: 1, failureThreshold: 1 },
                  },
                ],
              },
            },
          },
        },
      });
      const first = await timed('firstPodServingMs', () => waitForServingPod(core, undefined));
      // Pod deleted (the k8s-pod-kill fault): the ReplicaSet's replacement serving.
      const t0 = performance.now();
      await core.deleteNamespacedPod({ name: first.name, namespace: 'default', gracePeriodSeconds: 0 });
      const second = await waitForServingPod(core, first.name);
      record('podDeleteToServingMs', performance.now() - t0);
      // Container crash: SIGKILL of the service process; kubelet restarts the container in place.
      const sandbox = cp.realNode(node)!.sandboxInitPid!;
      const servicePid = findProcess(sandbox, '/app/truststream.mjs');
      const t1 = performance.now();
      process.kill(servicePid, 'SIGKILL');
      await until('the killed container to stop answering', async () => !(await healthy(second.ip)), 20);
      await until('the restarted container to answer', () => healthy(second.ip), 50);
      record('containerKillToServingMs', performance.now() - t1);
    } finally {
      await cp.dispose();
    }
  }
} finally {
  await reapResources(ledgerFile);
  rmSync(tmp, { recursive: true, force: true });
}

/** The host PID of the process under `ancestor` whose command line contains `match`. */
function findProcess(ancestor: number, match: string): number {
  const queue = [ancestor];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').includes(match)) return pid;
    } catch {
      /* gone */
    }
    queue.push(...childPids(pid));
  }
  throw new Error(`no process running ${match} on the node`);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const result = {
  machine: { cpus: os.cpus().length, memoryGiB: Math.round(os.totalmem() / 2 ** 30), kernel: os.release() },
  runs,
  medianMs: Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)])),
  samplesMs: samples,
  notes:
    'realNodeStartMs: sandbox, containerd, import of the pause and TrustStram archives, kubelet, until the Node is Ready. ' +
    'podDeleteToServingMs: pod deleted with grace 0 until a replacement answers /livez on its pod address (scheduling, sandbox, CNI, container start, readiness). ' +
    'containerKillToServingMs: SIGKILL of the service process until the restarted container answers again (kubelet restart, no back-off on the first restart).',
};
writeFileSync(values.out!, `${JSON.stringify(result, null, 2)}\n`);
console.log(JSON.stringify(result.medianMs, null, 2));
