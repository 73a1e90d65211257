import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { exitCodeForError } from '../../src/cli/output.js';
import { EnvironmentError } from '../../src/engine/errors.js';
import { ResourceLedger, type Resource } from '../../src/engine/resource-ledger.js';
import type { CommandOptions } from '../../src/targets/process/run-command.js';
import { DEFAULT_KIND_CONFIG, KindCluster, kindClusterName, type CommandRunner } from '../../src/targets/kubernetes/kind-cluster.js';

// No Docker engine on these machines (DESIGN.md section 5): the kind provider is checked on the
// commands it runs, through a recording command runner; `kind` itself is never started here.

class RecordingLedger extends ResourceLedger {
  readonly resources: Resource[] = [];
  constructor() {
    super(undefined);
  }
  override record(resource: Resource): void {
    this.resources.push(resource);
  }
}

function recorder(fail?: (args: string[]) => Error | undefined, clusters: string[] = []) {
  const calls: string[][] = [];
  const run: CommandRunner = async (file: string, args: string[], _options?: CommandOptions) => {
    calls.push([file, ...args]);
    const error = fail?.(args);
    if (error) throw error;
    return { code: 0, stdout: args.join(' ') === 'get clusters' ? clusters.map((c) => `${c}\n`).join('') : '', stderr: '' };
  };
  return { calls, run };
}

describe('kind cluster provider (command construction)', () => {
  it('names clusters after the run, as kind accepts them', () => {
    expect(kindClusterName('20261127T081500Z-Node_Loss.Drill')).toMatch(/^drill-20261127t081500z-node-los-[0-9a-f]{8}$/);
    const long = kindClusterName('20261127T081500Z-a-very-long-scenario-name-that-goes-on');
    expect(long.length).toBeLessThanOrEqual(40);
    expect(long).toMatch(/^[a-z0-9-]+[a-z0-9]$/);
    expect(long).not.toMatch(/--/);
  });

  it('two run ids that share their first 40 characters get different clusters', () => {
    const a = kindClusterName('20261127T081500Z-a-very-long-scenario-name-that-goes-on-1');
    const b = kindClusterName('20261127T081500Z-a-very-long-scenario-name-that-goes-on-2');
    expect(a).not.toBe(b);
    expect(kindClusterName('20261127T081500Z-a-very-long-scenario-name-that-goes-on-1')).toBe(a);
  });

  it('refuses a name `kind get clusters` already lists: creates nothing, records nothing, deletes nothing', async () => {
    const name = kindClusterName('r-taken');
    const { calls, run } = recorder(undefined, ['other-cluster', name]);
    const ledger = new RecordingLedger();
    const error = await KindCluster.create({ runId: 'r-taken', ledger, run, dockerAnswers: async () => true }).catch((e: unknown) => e);
    expect((error as EnvironmentError).code).toBe('KIND_CLUSTER_EXISTS');
    expect((error as Error).message).toContain(name);
    expect(calls).toEqual([['kind', 'version'], ['kind', 'get', 'clusters']]);
    expect(ledger.resources).toEqual([]);
  });

  it('when `kind create` says the name is taken (created since the check), the other cluster is not deleted', async () => {
    const { calls, run } = recorder((args) =>
      args[0] === 'create' ? new EnvironmentError('COMMAND_FAILED', 'kind create cluster failed: node(s) already exist for a cluster with the name "x"') : undefined,
    );
    let registered: KindCluster | undefined;
    const error = await KindCluster.create({ runId: 'r-race', ledger: new RecordingLedger(), run, dockerAnswers: async () => true }, (c) => (registered = c)).catch((e: unknown) => e);
    expect((error as Error).message).toContain('already exist');
    expect(calls.map((c) => c.slice(0, 3).join(' '))).toEqual(['kind version', 'kind get clusters', 'kind create cluster']);
    expect(existsSync(path.dirname(registered!.kubeconfigPath))).toBe(false);
  });

  it('creates the cluster from kind-config.yaml into its own kubeconfig, loads images, and deletes it on dispose', async () => {
    const { calls, run } = recorder();
    const ledger = new RecordingLedger();
    const cluster = await KindCluster.create({
      runId: '20261127T081500Z-pod-kill',
      ledger,
      run,
      dockerAnswers: async () => true,
      loadImages: ['truststream/api:1.4.2'],
    });
    const name = kindClusterName('20261127T081500Z-pod-kill');
    expect(name).toMatch(/^drill-20261127t081500z-pod-kill-[0-9a-f]{8}$/);
    const workDir = path.dirname(cluster.kubeconfigPath);
    expect(cluster.name).toBe(name);
    expect(cluster.context).toBe(`kind-${name}`);
    expect(cluster.targetPolicy).toEqual({ kind: 'whole-cluster' });
    expect(calls).toEqual([
      ['kind', 'version'],
      ['kind', 'get', 'clusters'],
      ['kind', 'create', 'cluster', '--name', name, '--config', DEFAULT_KIND_CONFIG, '--kubeconfig', cluster.kubeconfigPath, '--wait', '180s'],
      ['kind', 'load', 'docker-image', 'truststream/api:1.4.2', '--name', name],
    ]);
    // Recorded before `kind create`, so a killed drill's cluster is still deleted by the reaper.
    expect(ledger.resources).toEqual([
      { kind: 'temp-dir', path: workDir },
      { kind: 'kind-cluster', name },
    ]);
    expect(existsSync(workDir)).toBe(true);

    await cluster.dispose();
    await cluster.dispose();
    expect(calls.slice(4)).toEqual([['kind', 'delete', 'cluster', '--name', name, '--kubeconfig', cluster.kubeconfigPath]]);
    expect(existsSync(workDir)).toBe(false);
  });

  it('passes a node image and another config when given', async () => {
    const { calls, run } = recorder();
    const cluster = await KindCluster.create({
      runId: 'r1',
      ledger: new RecordingLedger(),
      run,
      dockerAnswers: async () => true,
      configPath: DEFAULT_KIND_CONFIG,
      nodeImage: 'kindest/node:v1.33.1',
      kindBinary: '/opt/kind/bin/kind',
    });
    expect(calls[2]).toEqual([
      '/opt/kind/bin/kind', 'create', 'cluster', '--name', kindClusterName('r1'), '--config', DEFAULT_KIND_CONFIG,
      '--kubeconfig', cluster.kubeconfigPath, '--wait', '180s', '--image', 'kindest/node:v1.33.1',
    ]);
    await cluster.dispose();
  });

  it('deletes a half-created cluster when `kind create` fails, and reports the failure', async () => {
    const { calls, run } = recorder((args) => (args[0] === 'create' ? new EnvironmentError('COMMAND_FAILED', 'kind create cluster failed: node did not become ready') : undefined));
    let registered: KindCluster | undefined;
    const error = await KindCluster.create({ runId: 'r2', ledger: new RecordingLedger(), run, dockerAnswers: async () => true }, (c) => (registered = c)).catch((e: unknown) => e);
    expect((error as Error).message).toContain('node did not become ready');
    expect(calls.map((c) => c.slice(0, 3).join(' '))).toEqual(['kind version', 'kind get clusters', 'kind create cluster', 'kind delete cluster']);
    expect(existsSync(path.dirname(registered!.kubeconfigPath))).toBe(false);
  });

  it('without a Docker engine: exit 3, says to use the local control plane, runs nothing', async () => {
    const { calls, run } = recorder();
    const ledger = new RecordingLedger();
    const error = await KindCluster.create({ runId: 'r3', ledger, run, dockerAnswers: async () => false }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EnvironmentError);
    expect((error as EnvironmentError).code).toBe('DOCKER_UNAVAILABLE');
    expect(exitCodeForError(error)).toBe(3);
    expect((error as Error).message).toContain('provider: local');
    expect((error as Error).message).toContain('npx drill cluster up --local');
    expect(calls).toEqual([]);
    expect(ledger.resources).toEqual([]);
  });

  it('without the kind binary: exit 3 naming how to install it or what to use instead', async () => {
    const { run } = recorder((args) => (args[0] === 'version' ? new EnvironmentError('COMMAND_FAILED', 'could not run kind: spawn kind ENOENT') : undefined));
    const error = await KindCluster.create({ runId: 'r4', ledger: new RecordingLedger(), run, dockerAnswers: async () => true }).catch((e: unknown) => e);
    expect((error as EnvironmentError).code).toBe('KIND_NOT_FOUND');
    expect((error as Error).message).toMatch(/install kind .*provider: local/);
  });

  it('kind-config.yaml: one control plane and two workers in two zones', () => {
    const config = parse(readFileSync(DEFAULT_KIND_CONFIG, 'utf8')) as { kind: string; apiVersion: string; nodes: Array<{ role: string; labels?: Record<string, string> }> };
    expect(config.kind).toBe('Cluster');
    expect(config.apiVersion).toBe('kind.x-k8s.io/v1alpha4');
    expect(config.nodes.map((n) => n.role)).toEqual(['control-plane', 'worker', 'worker']);
    expect(config.nodes.filter((n) => n.role === 'worker').map((n) => n.labels?.['topology.kubernetes.io/zone'])).toEqual(['zone-a', 'zone-b']);
  });
});
