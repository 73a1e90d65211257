import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { readResources, ResourceLedger } from '../../src/engine/resource-ledger.js';
import { recordedProcessAlive } from '../../src/targets/kubernetes/recorded-process.js';
import { LocalControlPlane } from '../../src/targets/kubernetes/local-control-plane.js';

/** What test/kubernetes/ files get through inject('k8s'). */
export interface SharedControlPlane {
  kubeconfigPath: string;
  context: string;
  auditLogPath: string;
  root: string;
  nodes: string[];
  components: Array<{ name: string; pid: number }>;
}

declare module 'vitest' {
  export interface ProvidedContext {
    k8s: SharedControlPlane;
  }
}

/**
 * One local control plane (3 kwok nodes) for every file in test/kubernetes/, started once per test
 * run: starting one per file would multiply the apiserver's start-up on a 2-core machine. It is
 * real, so a missing build fails these tests (EnvironmentError naming the build command) rather
 * than skipping them. Teardown checks that nothing it started is left.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const ledgerDir = mkdtempSync(path.join(os.tmpdir(), 'drill-vitest-k8s-'));
  const ledgerFile = path.join(ledgerDir, 'resources.jsonl');
  let cp: LocalControlPlane | undefined;
  const teardown = async () => {
    await cp?.dispose();
    const left = readResources(ledgerFile).flatMap((r) => {
      if (r.kind === 'process' && recordedProcessAlive(r.pid, r.match)) return [`${r.name} (pid ${r.pid})`];
      if (r.kind === 'temp-dir' && existsSync(r.path)) return [r.path];
      return [];
    });
    rmSync(ledgerDir, { recursive: true, force: true });
    if (left.length > 0) {
      // vitest only logs an error thrown here ("error during close") and still exits 0.
      process.exitCode = 1;
      throw new Error(`the shared control plane left behind: ${left.join(', ')}`);
    }
  };
  try {
    cp = await LocalControlPlane.start({ runId: `vitest-${process.pid}`, ledger: new ResourceLedger(ledgerFile), nodes: 3 }, (c) => (cp = c));
  } catch (error) {
    await teardown().catch(() => undefined);
    throw error;
  }
  project.provide('k8s', {
    kubeconfigPath: cp.kubeconfigPath,
    context: cp.context,
    auditLogPath: cp.auditLogPath,
    root: cp.root,
    nodes: cp.fakeNodeNames,
    components: cp.components.map((c) => ({ name: c.name, pid: c.pid })),
  });
  return teardown;
}
