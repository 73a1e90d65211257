import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { loadKubeConfig } from '../../src/targets/kubernetes/cluster-client.js';
import { readJournal, runCli, runDirFrom } from '../e2e/helpers.js';
import { label, scanFiles } from '../e2e/secret-scan.js';
import { recordedTestDir, removeRecordedTestDir } from '../support/recorded-test-dir.js';

// Issue 7 part 2 on Kubernetes: a Secret value given through ${VAR} to k8s-secret-patch, and the
// shared control plane's admin token the drill uses, appear in no file of the run (in any form:
// as is, base64 as in the PATCH body, percent-encoded). The drill runs through the real CLI.
const shared = inject('k8s');
const work = recordedTestDir('drill-e2e-k8s-secrets-');
afterAll(() => removeRecordedTestDir(work));

const secret = `k8s-e2e-secret-${randomBytes(12).toString('hex')}`;

const scenario = `name: k8s-secret-from-env
title: An API token rotated into the application's Secret from the environment
description: "The new token is \${DRILL_E2E_K8S_SECRET}."
runbook: "Update application connection strings"
severity: P3
targets:
  # The system under drill's database: its API pods are real containers, ready only with it.
  postgres:
    provider: auto
    dataset: { accounts: 50, transfers: 100 }
  kubernetes:
    provider: auto
workload:
  probes:
    - type: k8s-ready
      name: api-ready-endpoints
      endpoints: truststream-api
      min: 3
      interval: 200ms
baseline:
  steadyState: 2s
faults:
  - type: k8s-pod-kill
    selector: app=truststream-api,version=blue
    kill: one
detect:
  timeout: 20s
recovery:
  - step: k8s-secret-patch
    title: "Rotate the API token (\${DRILL_E2E_K8S_SECRET})"
    secret: truststream-db-credentials
    key: API_TOKEN
    value: { value: "\${DRILL_E2E_K8S_SECRET}" }
    restart: [truststream-api]
    timeout: 60s
  - step: k8s-rollout-status
    deployments: [truststream-api]
    timeout: 60s
expect:
  rto: 2m
  stability: 2s
timeout: 5m
`;

describe('secrets on Kubernetes (shared control plane, real CLI)', () => {
  it('a Secret value from ${VAR} and the cluster token are in no file of the run', async () => {
    const file = path.join(work, 'k8s-secret-from-env.yaml');
    writeFileSync(file, scenario);
    const reportsDir = path.join(work, 'reports');
    const result = await runCli(['run', file, '--reports-dir', reportsDir], {
      env: { DRILL_KUBECONFIG: shared.kubeconfigPath, DRILL_E2E_K8S_SECRET: secret, DEBUG: 'drill:*' },
    });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const runDir = runDirFrom(result.stdout, reportsDir);

    const token = loadKubeConfig(shared.kubeconfigPath, shared.context).getCurrentUser()?.token;
    expect(token, 'the shared control plane authenticates with a bearer token').toMatch(/.{16,}/);
    const { files, hits } = scanFiles(runDir, [secret, token!]);
    expect(files).toEqual(expect.arrayContaining(['journal.json', 'progress.jsonl', 'runner.log', 'incident-report.md', 'evidence/journal.json']));
    expect(hits).toEqual([]);
    expect([secret, token!].filter((s) => (result.stdout + result.stderr).includes(s)).map(label)).toEqual([]);

    // Redacted where it would have been, not merely absent: the patch happened and says so.
    const journal = readJournal(runDir);
    const patch = journal.steps.find((s) => s.name === 'k8s-secret-patch');
    expect(patch?.status).toBe('passed');
    expect(patch?.title).toBe('Rotate the API token ([REDACTED])');
    expect(patch?.output).toMatchObject({ secretName: 'truststream-db-credentials', key: 'API_TOKEN', value: `[REDACTED] (${secret.length} characters)` });
  });
});
