import { describe, expect, it } from 'vitest';
import { drillBatches } from '../../src/cli/drill-pool.js';
import { mayShareCluster, sharedClusterIndexes } from '../../src/cli/shared-cluster-plan.js';
import { loadScenarioFile } from '../../src/scenario/loader.js';
import type { Scenario } from '../../src/scenario/schema.js';

// The catalogue's own scenarios (and the signing-key fixture): the rule is checked on what users run.
const load = async (file: string): Promise<Scenario> => (await loadScenarioFile(file)).scenario;
const podKill = await load('drills/scenarios/k8s-pod-kill-self-heal.yaml');
const readinessLies = await load('drills/scenarios/k8s-readiness-lies.yaml');
const nodeFailure = await load('drills/scenarios/k8s-node-failure-drain.yaml');
const isolatePod = await load('drills/scenarios/breach-isolate-compromised-pod.yaml');
const signingKey = await load('test/fixtures/scenarios/breach-signing-key-rotation.yaml');
const forensics = await load('drills/scenarios/breach-leaked-service-account-token.yaml');
const legacyToken = await load('drills/scenarios/breach-revoke-misses-legacy-token.yaml');
const pg = { ...podKill, targets: { postgres: podKill.targets.postgres! } } as Scenario;
const sized = (s: Scenario, nodes: { real: number; fake: number }): Scenario => ({ ...s, targets: { ...s.targets, kubernetes: { ...s.targets.kubernetes!, nodes } } });

describe('mayShareCluster', () => {
  it('a namespaced drill that would start a local control plane with the default nodes shares', () => {
    expect(mayShareCluster(podKill, 'start-local')).toEqual({ share: true });
    expect(mayShareCluster(readinessLies, 'start-local')).toEqual({ share: true });
  });
  it('a drill acting on nodes (own-cluster: k8s-node-failure, cordon/drain/delete/replace) keeps a cluster of its own', () => {
    expect(mayShareCluster(nodeFailure, 'start-local')).toMatchObject({ share: false, why: expect.stringMatching(/acts on nodes/) });
  });
  it('isolate-compromised-nodes (a NoExecute taint on nodes) keeps a cluster of its own', () => {
    expect(mayShareCluster(isolatePod, 'start-local')).toMatchObject({ share: false, why: expect.stringMatching(/acts on nodes/) });
  });
  it('revoke-all-tokens rotateSigningKey (restarts kube-apiserver) keeps a cluster of its own', () => {
    expect(mayShareCluster(signingKey, 'start-local')).toMatchObject({ share: false, why: expect.stringMatching(/rotateSigningKey/) });
  });
  it('preserve-forensics (the audit log of an apiserver the drill runs) keeps a cluster of its own', () => {
    expect(mayShareCluster(forensics, 'start-local')).toMatchObject({ share: false, why: expect.stringMatching(/preserve-forensics/) });
  });
  it('a breach drill without those (credential-leak, revoke-all-tokens in its namespace) shares', () => {
    expect(legacyToken.targets.kubernetes).toBeDefined();
    expect(mayShareCluster(legacyToken, 'start-local')).toEqual({ share: true });
  });
  it('a drill asking for other nodes than the shared cluster has ({real: 2}) keeps its own', () => {
    expect(mayShareCluster(sized(podKill, { real: 1, fake: 0 }), 'start-local')).toMatchObject({ share: false, why: expect.stringMatching(/real: 1/) });
    expect(mayShareCluster(sized(podKill, { real: 0, fake: 3 }), 'start-local')).toMatchObject({ share: false, why: expect.stringMatching(/fake: 3/) });
    expect(mayShareCluster(sized(podKill, { real: 2, fake: 1 }), 'start-local').share).toBe(false);
  });
  it('a drill that would not start a local control plane keeps its cluster (DRILL_KUBECONFIG set: reuse-local; kind; kubeconfig)', () => {
    for (const how of ['reuse-local', 'kind', 'kubeconfig'] as const) expect(mayShareCluster(podKill, how).share).toBe(false);
  });
  it('a drill without Kubernetes does not share a cluster', () => {
    expect(mayShareCluster(pg, undefined)).toEqual({ share: false, why: 'not a Kubernetes drill' });
  });
});

describe('sharedClusterIndexes', () => {
  const local = 'start-local' as const;
  it('two or more shareable drills share, the others keep their own', () => {
    expect(sharedClusterIndexes([podKill, pg, nodeFailure, readinessLies], [local, undefined, local, local], 2)).toEqual([0, 3]);
  });
  it('one shareable drill alone: no shared cluster (nothing gained)', () => {
    expect(sharedClusterIndexes([podKill, nodeFailure, pg], [local, local, undefined], 2)).toEqual([]);
  });
  it('--parallel 1: no shared cluster (each drill keeps its own, as before)', () => {
    expect(sharedClusterIndexes([podKill, readinessLies], [local, local], 1)).toEqual([]);
  });
  it('DRILL_KUBECONFIG set (reuse-local): the user\'s cluster, no shared one', () => {
    expect(sharedClusterIndexes([podKill, readinessLies], ['reuse-local', 'reuse-local'], 2)).toEqual([]);
  });
});

describe('drillBatches with a shared cluster', () => {
  it('the shared drills form one batch of width N where the first of them was; the rest as before', () => {
    expect(drillBatches([pg, podKill, pg, nodeFailure, readinessLies, pg], 2, [1, 4])).toEqual([
      { indexes: [0], width: 2 },
      { indexes: [1, 4], width: 2, sharedCluster: true },
      { indexes: [2], width: 2 },
      { indexes: [3], width: 1 },
      { indexes: [5], width: 2 },
    ]);
  });
  it('a drill after the shared batch is not put into it', () => {
    expect(drillBatches([podKill, readinessLies, pg, pg], 2, [0, 1])).toEqual([
      { indexes: [0, 1], width: 2, sharedCluster: true },
      { indexes: [2, 3], width: 2 },
    ]);
  });
});
