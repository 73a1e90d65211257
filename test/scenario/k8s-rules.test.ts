import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadScenarioFile } from '../../src/scenario/loader.js';
import { validationError } from './helpers.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'drill-k8s-rules-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function scenario(name: string, body: string): string {
  const file = path.join(dir, `${name}.yaml`);
  writeFileSync(file, `name: ${name}\ntitle: t\nrunbook: r\nseverity: P1\n${body}`);
  return file;
}

const probes = 'workload:\n  probes:\n    - {type: k8s-ready, name: api, endpoints: truststream-api, min: 3}\n';
const recovery = 'recovery:\n  - step: k8s-rollout-undo\n';

describe('Kubernetes scenario rules', () => {
  it('loads a Kubernetes drill with its defaults', async () => {
    const { scenario: s } = await loadScenarioFile(
      scenario('ok', `targets: {kubernetes: {}}\n${probes}faults:\n  - {type: k8s-pod-kill, selector: "app=truststream-api"}\n${recovery}`),
    );
    expect(s.targets.kubernetes).toEqual({ provider: 'auto', nodes: { real: 2, fake: 0 }, readyTimeout: 120_000 });
    expect(s.faults[0]).toEqual({ type: 'k8s-pod-kill', selector: 'app=truststream-api', kill: 'one' });
    expect(s.recovery[0]).toEqual({ step: 'k8s-rollout-undo', deployments: ['truststream-api', 'truststream-worker', 'truststream-scheduler'], timeout: 600_000 });
    expect(s.workload.probes[0]).toEqual({ type: 'k8s-ready', name: 'api', endpoints: 'truststream-api', min: 3, interval: 500, timeout: 2000, service: true });
  });

  it('places every Kubernetes problem at its line and key', async () => {
    // A kubeconfig that exists, so only the rules below have something to say.
    writeFileSync(path.join(dir, 'kubeconfig'), 'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]\nusers: [{name: u, user: {}}]\ncontexts: [{name: k, context: {cluster: c, user: u}}]\ncurrent-context: k\n');
    const file = scenario(
      'bad',
      'targets: {kubernetes: {provider: kubeconfig, kubeconfig: kubeconfig}}\n' +
        'workload:\n  probes:\n    - {type: k8s-ready, name: both, endpoints: a, deployment: b}\n' +
        'faults:\n  - {type: k8s-pod-kill, selector: "app in (a"}\n  - {type: k8s-node-failure}\n' +
        'recovery:\n  - step: k8s-secret-patch\n',
    );
    const error = await validationError(loadScenarioFile(file));
    const issues = error.issues.map((i) => `${i.line} ${i.keyPath}: ${i.message}`);
    expect(issues).toEqual([
      expect.stringMatching(/^5 targets\.kubernetes\.namespace: required when provider is "kubeconfig"/),
      '8 workload.probes[0].type: name either deployment or endpoints, not both',
      expect.stringMatching(/^10 faults\[0\]\.selector: cannot read "app in \(a"/),
      expect.stringMatching(/^11 faults\[1\]\.type: k8s-node-failure acts on nodes, which every namespace shares, and a kubeconfig cluster is not the drill's own/),
      expect.stringMatching(/^13 recovery\[0\]\.step: value current-primary \(the default\) is the drill database's URL/),
    ]);
  });

  it('asks for targets.kubernetes when Kubernetes faults, steps or probes have none', async () => {
    const file = scenario(
      'nok8s',
      'targets: {postgres: {provider: native}}\n' + probes + 'faults:\n  - {type: k8s-bad-release}\n' + recovery,
    );
    const error = await validationError(loadScenarioFile(file));
    expect(error.issues.map((i) => i.keyPath)).toEqual(['workload.probes[0].type', 'faults[0].type', 'recovery[0].step']);
    expect(error.issues[0]!.message).toMatch(/add targets\.kubernetes/);
  });
});
