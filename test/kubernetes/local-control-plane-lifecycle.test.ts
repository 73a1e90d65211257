import { chmodSync, existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { EnvironmentError } from '../../src/engine/errors.js';
import { reapResources } from '../../src/engine/reaper.js';
import { readResources, ResourceLedger } from '../../src/engine/resource-ledger.js';
import { resolveControlPlaneBinaries } from '../../src/targets/kubernetes/control-plane-binaries.js';
import { LocalControlPlane } from '../../src/targets/kubernetes/local-control-plane.js';
import { recordedProcessAlive } from '../../src/targets/kubernetes/recorded-process.js';
import { waitUntil } from './helpers.js';
import { recordedTestDir, removeRecordedTestDir } from '../support/recorded-test-dir.js';

// Control planes of their own (not the shared one): these tests stop, break and dispose them.
const tmp = recordedTestDir('drill-lcp-lifecycle-');
afterAll(() => removeRecordedTestDir(tmp));

/** What a ledger's control plane left: live processes and existing temp dirs. */
const leftovers = (ledgerFile: string) =>
  readResources(ledgerFile).flatMap((r) => {
    if (r.kind === 'process' && recordedProcessAlive(r.pid, r.match)) return [`process ${r.name}`];
    if (r.kind === 'temp-dir' && existsSync(r.path)) return [`dir ${r.path}`];
    return [];
  });

describe('local control plane lifecycle', () => {
  it('loses a node when its kwok stops, gets it back on restart, and leaves nothing after dispose', async () => {
    const ledgerFile = path.join(tmp, 'node-loss.jsonl');
    const kubeconfigPath = path.join(tmp, 'node-loss.kubeconfig');
    // A short lease and grace period, so the node lifecycle controller notices within seconds.
    const cp = await LocalControlPlane.start({
      runId: 'lifecycle-node-loss',
      ledger: new ResourceLedger(ledgerFile),
      nodes: 2,
      kubeconfigPath,
      tuning: { nodeLeaseSeconds: 8, nodeMonitorGracePeriodSeconds: 10 },
    });
    try {
      const core = cp.connect().makeApiClient(CoreV1Api);
      const [lost, kept] = cp.fakeNodeNames;
      await cp.stopNodeAgent(lost!);
      expect(cp.nodeAgent(lost!)).toBeUndefined();
      const taints = await waitUntil(`${lost} to be marked NotReady and tainted`, async () => {
        const node = await core.readNode({ name: lost! });
        const ready = node.status?.conditions?.find((c) => c.type === 'Ready')?.status;
        const keys = (node.spec?.taints ?? []).map((t) => t.key);
        return ready !== 'True' && keys.includes('node.kubernetes.io/unreachable') ? keys : undefined;
      });
      expect(taints).toContain('node.kubernetes.io/unreachable');
      expect((await cp.nodes()).find((n) => n.name === kept)?.ready).toBe(true);

      await cp.startNodeAgent(lost!);
      expect((await cp.nodes()).every((n) => n.ready)).toBe(true);
    } finally {
      await cp.dispose();
    }
    const recorded = readResources(ledgerFile);
    expect(recorded.filter((r) => r.kind === 'process').map((r) => r.name)).toEqual([
      'etcd',
      'kube-apiserver',
      'kube-controller-manager',
      'kube-scheduler',
      'kwok:kwok-node-1',
      'kwok:kwok-node-2',
      'kwok:kwok-node-1',
    ]);
    expect(leftovers(ledgerFile)).toEqual([]);
    expect(existsSync(cp.root)).toBe(false);
    expect(existsSync(kubeconfigPath)).toBe(false);
    // And so the reaper of `drill run` finds nothing to do either.
    expect(await reapResources(ledgerFile)).toEqual([]);
  });

  it('reports a component that fails to start with its log, and stops what had started', async () => {
    const real = await resolveControlPlaneBinaries();
    // The real binaries, except an apiserver that fails the way a real one does (log line, exit 1).
    const bin = path.join(tmp, 'broken-bin');
    mkdirSync(bin);
    for (const name of ['etcd', 'kube-controller-manager', 'kube-scheduler', 'kwok'] as const) symlinkSync(real.path(name), path.join(bin, name));
    writeFileSync(path.join(bin, 'kube-apiserver'), '#!/bin/sh\necho "E0101 boom: cannot bind the secure port" >&2\nexit 1\n');
    chmodSync(path.join(bin, 'kube-apiserver'), 0o755);

    const ledgerFile = path.join(tmp, 'broken.jsonl');
    let registered: LocalControlPlane | undefined;
    const error = await LocalControlPlane.start(
      { runId: 'lifecycle-broken', ledger: new ResourceLedger(ledgerFile), binaries: { dir: bin, path: (n) => path.join(bin, n) } },
      (cp) => (registered = cp),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EnvironmentError);
    expect((error as EnvironmentError).code).toBe('COMPONENT_EXITED');
    expect((error as Error).message).toMatch(/kube-apiserver exited during start-up \(code 1[\s\S]*boom: cannot bind the secure port/);
    // etcd had started; it was stopped and the temp dir removed.
    expect(readResources(ledgerFile).filter((r) => r.kind === 'process').map((r) => r.name)).toEqual(['etcd', 'kube-apiserver']);
    expect(leftovers(ledgerFile)).toEqual([]);
    expect(existsSync(registered!.root)).toBe(false);
  });
});
