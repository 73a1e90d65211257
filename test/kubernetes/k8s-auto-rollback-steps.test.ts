import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startClock } from '../../src/engine/clock.js';
import type { DrillContext } from '../../src/engine/drill-context.js';
import { StepFailedError } from '../../src/engine/errors.js';
import { JournalRecorder } from '../../src/engine/journal-recorder.js';
import { provisionKubernetes } from '../../src/targets/kubernetes/provision-kubernetes.js';
import { KubernetesService, runningRelease } from '../../src/targets/kubernetes/kubernetes-service.js';
import { ResourceLedger } from '../../src/engine/resource-ledger.js';
import { TeardownStack } from '../../src/engine/teardown-stack.js';
import { inject as injectFault } from '../../src/injectors/index.js';
import { runProcedure } from '../../src/recovery/index.js';
import { fault as faultSchema, recoveryStep, scenarioSchema } from '../../src/scenario/schema.js';
import { loadScenarioFile } from '../../src/scenario/loader.js';
import { loadKubeConfig } from '../../src/targets/kubernetes/cluster-client.js';

// The branches the drills do not take: a healthy service (no rollback needed, breaker never
// trips) and a breaker that watches out its time without tripping while the service is down.
// Real control plane (the shared one), a namespace labelled drill.dev/target=true; the service
// probes are those of the scenario the context is built from.
const shared = inject('k8s');
const core = loadKubeConfig(shared.kubeconfigPath, shared.context).makeApiClient(CoreV1Api);
const NS = 'drill-auto-rollback-steps';

const loaded = await loadScenarioFile('drills/scenarios/k8s-auto-rollback-circuit-breaker.yaml');
const clock = startClock();
const recorder = new JournalRecorder(clock, 'auto-rollback-steps', loaded);
const teardown = new TeardownStack();
const abort = new AbortController();
let ctx: DrillContext;
let service: KubernetesService;
const step = (s: unknown) => runProcedure(ctx, recoveryStep.parse(s));
const kinds = () => recorder.journal.events.map((e) => e.kind);

beforeAll(async () => {
  await core.createNamespace({ body: { metadata: { name: NS, labels: { 'drill.dev/target': 'true' } } } });
  const spec = scenarioSchema.shape.targets.parse({
    kubernetes: { provider: 'kubeconfig', kubeconfig: shared.kubeconfigPath, context: shared.context, namespace: NS },
  }).kubernetes!;
  const k8s = await provisionKubernetes(spec, { runId: 'auto-rollback-steps', clock, ledger: new ResourceLedger(undefined), teardown, recorder, signal: abort.signal, databaseUrl: shared.databaseUrl });
  // The scenario's api-health probe reaches /health through the Service's endpoints: /health takes
  // no token, so the service here has none of the drill's (no reader role, no API token made).
  service = new KubernetesService(k8s.api, k8s.namespace, 'health-needs-no-token', await runningRelease(k8s.api, k8s.namespace));
  ctx = { runId: 'auto-rollback-steps', scenario: loaded.scenario, clock, recorder, signal: abort.signal, teardown, k8s, service, has: (part: string) => part === 'k8s' || part === 'service' } as unknown as DrillContext;
}, 180_000);

afterAll(async () => {
  await teardown.runAll();
  await core.deleteNamespace({ name: NS }).catch(() => undefined);
});

describe('k8s-auto-rollback and k8s-circuit-breaker on a healthy and on a broken service', () => {
  it('auto-rollback on a healthy service: health check passes, no rollback needed, nothing rolled back', async () => {
    const out = await step({ step: 'k8s-auto-rollback', healthTimeout: '5s', pollInterval: '1s', timeout: '30s' });
    expect(out).toMatchObject({ rollbackNeeded: false, result: 'no rollback needed', healthGate: { healthy: true, checks: 1 } });
    expect(kinds()).not.toContain('rollout-undo');
    expect(recorder.journal.events.at(-1)).toMatchObject({ kind: 'auto-rollback', message: 'Health check passed, no rollback needed' });
  });

  it('circuit breaker on a healthy service: watches out watchFor without tripping and passes', async () => {
    const out = await step({ step: 'k8s-circuit-breaker', interval: '500ms', threshold: 2, watchFor: '2s', timeout: '30s' });
    expect(out).toMatchObject({ tripped: false, rollbackNeeded: false });
    const checks = out.checks as Array<{ healthy: boolean }>;
    expect(checks.length).toBeGreaterThanOrEqual(3);
    expect(checks.every((c) => c.healthy)).toBe(true);
    expect(kinds()).not.toContain('rollout-undo');
  });

  it('counts the restarts of a crash-looping release: none while healthy, more once 4.4.1 exits at start', async () => {
    expect(await service.restarts.total()).toBe(0);
    const handle = await injectFault(ctx, faultSchema.parse({ type: 'k8s-bad-release', deployments: ['truststream-api'], version: '4.4.1' }));
    try {
      // The kubelet restarts an exited container after its back-off (10 s at first): poll, bounded.
      const deadline = Date.now() + 120_000;
      let restarts = 0;
      while (restarts === 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        restarts = await service.restarts.total();
      }
      expect(restarts).toBeGreaterThan(0);
    } finally {
      await handle[Symbol.asyncDispose]();
    }
  }, 180_000);

  it('circuit breaker that cannot reach its threshold in time while the service is down: fails BREAKER_NOT_TRIPPED, no rollback', async () => {
    const handle = await injectFault(ctx, faultSchema.parse({ type: 'k8s-bad-release', deployments: ['truststream-api'], version: '4.4.1' }));
    try {
      const error = await step({ step: 'k8s-circuit-breaker', interval: '500ms', threshold: 20, watchFor: '2s', timeout: '30s' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StepFailedError);
      expect(error).toMatchObject({ code: 'BREAKER_NOT_TRIPPED', message: expect.stringMatching(/without tripping \(20 failed checks in a row within 1m\).*fewer than 3/) });
      expect(kinds()).not.toContain('rollout-undo');
    } finally {
      await handle[Symbol.asyncDispose]();
    }
  });
});
