import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readResources } from '../../src/engine/resource-ledger.js';
import { listClusterNodes, loadKubeConfig } from '../../src/targets/kubernetes/cluster-client.js';
import { recordedProcessAlive } from '../../src/targets/kubernetes/recorded-process.js';
import { runCli } from './helpers.js';

// `drill cluster up/down` as a user runs them, each test with its own state directory.
const tmp = mkdtempSync(path.join(os.tmpdir(), 'drill-cluster-cli-'));
const env = { DRILL_CLUSTERS_DIR: tmp };

afterAll(async () => {
  // A failed test must not leave a cluster running.
  for (const name of ['e2e-up', 'e2e-killed']) await runCli(['cluster', 'down', '--name', name], { env });
  rmSync(tmp, { recursive: true, force: true });
});

interface Recorded {
  pids: Array<{ name: string; pid: number; match: string }>;
  dirs: string[];
}

function recorded(name: string): Recorded {
  const resources = readResources(path.join(tmp, name, 'resources.jsonl'));
  return {
    pids: resources.flatMap((r) => (r.kind === 'process' ? [{ name: r.name, pid: r.pid, match: r.match }] : [])),
    dirs: resources.flatMap((r) => (r.kind === 'temp-dir' ? [r.path] : [])),
  };
}

const leftovers = (r: Recorded) => [
  ...r.pids.filter((p) => recordedProcessAlive(p.pid, p.match)).map((p) => `${p.name} (pid ${p.pid})`),
  ...r.dirs.filter((d) => existsSync(d)),
];

describe('drill cluster', () => {
  it('up --local starts a cluster in the background and prints its kubeconfig; down stops it and leaves nothing', async () => {
    const up = await runCli(['cluster', 'up', '--local', '--name', 'e2e-up', '--nodes', '1'], { env });
    expect(up.code, up.stderr).toBe(0);
    const kubeconfig = path.join(tmp, 'e2e-up', 'kubeconfig');
    expect(up.stdout).toContain(`export KUBECONFIG=${kubeconfig}\n`);
    expect(up.stdout).toContain('stop it with: npx drill cluster down --name e2e-up');

    // The CLI has exited; the cluster runs on.
    const nodes = await listClusterNodes(loadKubeConfig(kubeconfig));
    expect(nodes).toEqual([expect.objectContaining({ name: 'kwok-node-1', ready: true, fake: true })]);
    const state = JSON.parse(readFileSync(path.join(tmp, 'e2e-up', 'state.json'), 'utf8')) as { pid: number; match: string; status: string };
    expect(state.status).toBe('ready');
    expect(recordedProcessAlive(state.pid, state.match)).toBe(true);

    const again = await runCli(['cluster', 'up', '--name', 'e2e-up'], { env });
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('cluster "e2e-up" is already running');
    expect(again.stdout).toContain(`kept by pid ${state.pid}`);

    const list = await runCli(['cluster', 'list'], { env });
    expect(list.stdout).toMatch(new RegExp(`e2e-up +ready, pid ${state.pid}`));

    const components = recorded('e2e-up');
    expect(components.pids.map((p) => p.name)).toEqual(['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok:kwok-node-1']);
    const down = await runCli(['cluster', 'down', '--name', 'e2e-up'], { env });
    expect(down.code, down.stderr).toBe(0);
    expect(down.stdout).toContain('cluster "e2e-up" is down');
    // The keeper stopped everything itself: nothing was left for `down` to reap.
    expect(down.stdout).not.toContain('cleaned up');
    expect(leftovers(components)).toEqual([]);
    expect(recordedProcessAlive(state.pid, state.match)).toBe(false);
    expect(existsSync(path.join(tmp, 'e2e-up'))).toBe(false);

    const downAgain = await runCli(['cluster', 'down', '--name', 'e2e-up'], { env });
    expect(downAgain.code).toBe(0);
    expect(downAgain.stdout).toContain('no cluster "e2e-up"');
  });

  it('with real nodes: the cluster lives in a drill network of its own; exec runs commands there; down removes it all', async () => {
    const up = await runCli(['cluster', 'up', '--name', 'e2e-real', '--real-nodes', '1'], { env });
    expect(up.code, up.stderr).toBe(0);
    const state = JSON.parse(readFileSync(path.join(tmp, 'e2e-real', 'state.json'), 'utf8')) as { network: string; realNodes: string[] };
    expect(state.network).toBe('drill-cluster-e2e-real');
    expect(state.realNodes).toEqual(['drill-node-1']);
    expect(up.stdout).toContain('run commands in it: npx drill cluster exec --name e2e-real -- kubectl get nodes');
    expect(existsSync(`/run/netns/${state.network}`)).toBe(true);

    // Inside: no route out, and the cluster's API answers (the node is Ready).
    const routes = await runCli(['cluster', 'exec', '--name', 'e2e-real', '--', 'ip', '-4', 'route'], { env });
    expect(routes.code, routes.stderr).toBe(0);
    expect(routes.stdout).not.toContain('default');
    const probe = `const {KubeConfig,CoreV1Api}=await import('@kubernetes/client-node');const k=new KubeConfig();k.loadFromFile(process.env.KUBECONFIG);` +
      `const n=await k.makeApiClient(CoreV1Api).listNode();console.log(n.items.map(x=>x.metadata.name+'='+x.status.conditions.find(c=>c.type==='Ready').status).join(','))`;
    const nodes = await runCli(['cluster', 'exec', '--name', 'e2e-real', '--', process.execPath, '--input-type=module', '-e', probe], { env });
    expect(nodes.stdout.trim(), nodes.stderr).toBe('drill-node-1=True');

    const components = recorded('e2e-real');
    const down = await runCli(['cluster', 'down', '--name', 'e2e-real'], { env });
    expect(down.code, down.stderr).toBe(0);
    expect(down.stdout).toContain('removed its drill network: netns drill-cluster-e2e-real');
    expect(down.stdout).not.toContain('cleaned up what was left running');
    expect(leftovers(components)).toEqual([]);
    expect(existsSync(`/run/netns/${state.network}`)).toBe(false);
  });

  it('down cleans up after a cluster whose keeper was killed (SIGKILL)', async () => {
    const up = await runCli(['cluster', 'up', '--name', 'e2e-killed', '--nodes', '1'], { env });
    expect(up.code, up.stderr).toBe(0);
    const state = JSON.parse(readFileSync(path.join(tmp, 'e2e-killed', 'state.json'), 'utf8')) as { pid: number };
    const components = recorded('e2e-killed');
    process.kill(state.pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 500));
    // The components outlive their keeper...
    expect(leftovers(components).length).toBeGreaterThan(0);

    const down = await runCli(['cluster', 'down', '--name', 'e2e-killed'], { env });
    expect(down.code, down.stderr).toBe(0);
    expect(down.stdout).toMatch(/cleaned up what was left running: process kwok:kwok-node-1 \d+, .*process etcd \d+, dir /);
    // ...until `down` reaps them from the resource ledger.
    expect(leftovers(components)).toEqual([]);
    expect(existsSync(path.join(tmp, 'e2e-killed'))).toBe(false);
  });

  it('up without built binaries: exit 3 with the build command, nothing started', async () => {
    const result = await runCli(['cluster', 'up', '--name', 'e2e-unbuilt'], {
      env: { ...env, DRILL_CACHE_DIR: path.join(tmp, 'empty-cache'), DRILL_CONTROL_PLANE_BIN: '' },
    });
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('tools/build-control-plane.sh');
    expect(result.stderr).toContain('(CONTROL_PLANE_NOT_BUILT)');
    expect(existsSync(path.join(tmp, 'e2e-unbuilt'))).toBe(false);
  });

  it('rejects a bad name or node count with exit 2', async () => {
    expect((await runCli(['cluster', 'up', '--name', 'Prod Cluster'], { env })).code).toBe(2);
    expect((await runCli(['cluster', 'up', '--nodes', 'many'], { env })).code).toBe(2);
  });
});
