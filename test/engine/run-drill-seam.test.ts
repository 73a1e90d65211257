import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DrillContext, FaultHandle } from '../../src/engine/drill-context.js';
import { DRILL_REGISTRIES, type DrillRegistries } from '../../src/engine/drill-registries.js';
import { DrillError } from '../../src/engine/errors.js';
import { provisioningOrder } from '../../src/engine/provision-targets.js';
import { readResources, ResourceLedger } from '../../src/engine/resource-ledger.js';
import { runDrill } from '../../src/engine/run-drill.js';
import type { LoadedScenario } from '../../src/scenario/loader.js';
import { scenarioSchema } from '../../src/scenario/schema.js';
import { TARGET_KINDS } from '../../src/targets/target-kinds.js';
import type { TargetKind, TargetKinds } from '../../src/targets/target-kind.js';
import type { RestartOptions, ServiceEndpoint, ServiceTarget } from '../../src/targets/service/types.js';

/**
 * The engine's seam: a drill runs through the real phase tasks (provision, baseline, inject,
 * detect, recover, verify, judge, teardown) with a target kind registered for the test instead of
 * PostgreSQL or Kubernetes. The fake is a real HTTP server on loopback standing in for the
 * service; the probes are the real service probes, the recovery step the real `service-restart`
 * procedure acting through the fake's `restart` capability; only the fault is the test's own.
 */

let work: string;
beforeAll(() => {
  work = mkdtempSync(path.join(os.tmpdir(), 'drill-seam-test-'));
});
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

/** A service that answers /health 200 while healthy, 503 otherwise; `restart` makes it healthy unless it is told the release is broken. */
class FakeService implements ServiceTarget {
  readonly description = 'fake service (test double on loopback)';
  readonly version = '4.4.0';
  readonly token = 'fake-token';
  healthy = true;
  restartHeals = true;
  private server: Server | undefined;
  private url = '';

  async start(): Promise<void> {
    const server = createServer((request, response) => {
      response.writeHead(request.url === '/health' && this.healthy ? 200 : 503, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ healthy: this.healthy }));
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  get running(): boolean {
    return this.server?.listening ?? false;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server?.listening) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async endpoints(): Promise<ServiceEndpoint[]> {
    return this.running ? [{ name: 'fake-1', url: this.url }] : [];
  }

  async metricsEndpoints(): Promise<ServiceEndpoint[]> {
    return [];
  }

  async restart(_options: RestartOptions): Promise<Record<string, unknown>> {
    this.healthy = this.restartHeals;
    return { restarted: true, healthy: this.healthy };
  }
}

interface Seam {
  service: FakeService;
  /** What ran at teardown, in order. */
  undone: string[];
  /** The temp directory the fake kind created (and recorded in the ledger). */
  dir?: string;
  /** What the context's accessors said while the drill ran. */
  seen?: { has: Record<string, boolean>; errors: Record<string, { code: string; message: string } | undefined> };
}

/** A target kind registered for the test under `targets.service`: registers its teardown, records its resource, then creates both. */
function fakeKind(seam: Seam, options: { failAfterCreating?: boolean } = {}): TargetKind<'service'> {
  return {
    after: [],
    provides: ['service'],
    records: ['temp-dir'],
    async provision(_spec, env) {
      env.teardown.push('stop the fake service', async () => {
        seam.undone.push('stop the fake service');
        await seam.service.stop();
        if (seam.dir) rmSync(seam.dir, { recursive: true, force: true });
      });
      const dir = path.join(work, `drill-fake-${env.runId}`);
      env.ledger.record({ kind: 'temp-dir', path: dir });
      mkdirSync(dir);
      seam.dir = dir;
      await seam.service.start();
      if (options.failAfterCreating) throw new DrillError('FAKE_PROVISION_FAILED', 'the fake target failed after creating its pieces', 'environment');
      return { service: seam.service };
    },
  };
}

const ACCESSORS = ['pg', 'router', 'writer', 'k8s', 'service'] as const;

/** The fault: the service answers 503; reverting it (teardown) makes it healthy again. */
function fakeInject(seam: Seam): DrillRegistries['inject'] {
  return async (ctx: DrillContext): Promise<FaultHandle> => {
    seam.seen = {
      has: Object.fromEntries((['pg', 'router', 'k8s', 'service'] as const).map((p) => [p, ctx.has(p)])),
      errors: Object.fromEntries(
        ACCESSORS.map((name) => {
          try {
            void ctx[name];
            return [name, undefined];
          } catch (error) {
            return [name, { code: (error as DrillError).code, message: (error as Error).message }];
          }
        }),
      ),
    };
    const inEffectAt = ctx.clock.now();
    seam.service.healthy = false;
    return {
      description: 'fake outage (/health answers 503)',
      details: {},
      inEffectAt,
      async [Symbol.asyncDispose]() {
        seam.undone.push('revert the fake outage');
        seam.service.healthy = true;
      },
    };
  };
}

function loadedScenario(overrides: { rto?: string } = {}): LoadedScenario {
  const scenario = scenarioSchema.parse({
    name: 'fake-target-seam',
    title: 'A drill on a fake target, through the real phases',
    runbook: 'Immediate Response: Step 1: Incident Assessment',
    severity: 'P3',
    // Validated by the schema only: the loader's cross-key rules (the service needs targets.postgres) are the real service's.
    targets: { service: { version: '4.4.0' } },
    workload: { probes: [{ type: 'http', name: 'health', target: 'service', path: '/health', interval: '50ms', timeout: '5s' }] },
    baseline: { steadyState: '1s' },
    faults: [{ type: 'k8s-pod-kill', selector: 'app=fake' }],
    detect: { timeout: '10s' },
    recovery: [{ step: 'service-restart' }],
    expect: { rto: overrides.rto ?? '60s', stability: '500ms' },
    timeout: '2m',
  });
  return { file: path.join(work, 'fake-target-seam.yaml'), source: '', sha256: '0'.repeat(64), scenario };
}

function registries(seam: Seam, kind: TargetKind<'service'>): DrillRegistries {
  return { ...DRILL_REGISTRIES, targets: { ...TARGET_KINDS, service: kind }, inject: fakeInject(seam) };
}

describe('the engine with a fake target kind', () => {
  it('runs every phase on it, judges the journal and tears down in reverse; absent targets still say what to add', async () => {
    const seam: Seam = { service: new FakeService(), undone: [] };
    const ledgerFile = path.join(work, 'passing.jsonl');
    const journal = await runDrill(loadedScenario(), { runId: 'seam-pass', ledger: new ResourceLedger(ledgerFile), registries: registries(seam, fakeKind(seam)) });

    expect(journal.error).toBeUndefined();
    expect(journal.phases.map((p) => [p.name, p.status])).toEqual([
      ['provision', 'passed'],
      ['baseline', 'passed'],
      ['inject', 'passed'],
      ['detect', 'passed'],
      ['recover', 'passed'],
      ['verify', 'passed'],
      ['judge', 'passed'],
      ['teardown', 'passed'],
    ]);
    expect(journal.phases[0]!.output).toEqual({ postgres: false, kubernetes: false, service: seam.service.description, regions: false });
    expect(journal.steps.map((s) => [s.name, s.status, s.output])).toEqual([['service-restart', 'passed', { restarted: true, healthy: true }]]);
    expect(journal.verdicts.map((v) => [v.check, v.status])).toEqual([
      ['steady-state', 'passed'],
      ['detection', 'passed'],
      ['rto', 'passed'],
      ['recovery-steps', 'passed'],
    ]);
    expect(journal.status).toBe('passed');
    const { tFault, tDetected, tRecoveryStart, tRecoveryEnd, tVerified } = journal.marks;
    expect(tFault!.t).toBeLessThanOrEqual(tDetected!.t);
    expect(tDetected!.t).toBeLessThanOrEqual(tRecoveryStart!.t);
    expect(tRecoveryEnd!.t).toBeLessThanOrEqual(tVerified!.t);

    // The parts the fake did not provide: absent, and each accessor throws its do-this error.
    expect(seam.seen!.has).toEqual({ pg: false, router: false, k8s: false, service: true });
    expect(seam.seen!.errors).toEqual({
      pg: { code: 'TARGET_MISSING', message: 'this drill uses PostgreSQL, but the scenario has no targets.postgres; add one' },
      router: { code: 'TARGET_MISSING', message: 'this drill uses the application database, but the scenario has no targets.postgres; add one' },
      writer: { code: 'TARGET_MISSING', message: 'this drill uses the canary writer, but the scenario has no targets.postgres; add one' },
      k8s: { code: 'TARGET_MISSING', message: 'this drill acts on Kubernetes, but the scenario has no targets.kubernetes; add one (e.g. targets: {kubernetes: {provider: auto}})' },
      service: undefined,
    });

    // Teardown: newest first (the fault's revert before the target it was on), every piece gone.
    expect(seam.undone).toEqual(['revert the fake outage', 'stop the fake service']);
    expect(seam.service.running).toBe(false);
    expect(readResources(ledgerFile)).toEqual([{ kind: 'temp-dir', path: seam.dir }]);
    expect(existsSync(seam.dir!)).toBe(false);
  });

  it('fails the RTO when the runbook step does not bring the service back (negative control)', async () => {
    const seam: Seam = { service: new FakeService(), undone: [] };
    seam.service.restartHeals = false;
    const journal = await runDrill(loadedScenario({ rto: '1s' }), { runId: 'seam-fail', registries: registries(seam, fakeKind(seam)) });

    expect(journal.error).toBeUndefined();
    expect(journal.status).toBe('failed');
    expect(journal.verdicts.find((v) => v.check === 'rto')?.status).toBe('failed');
    expect(journal.phases.map((p) => p.name)).toEqual(['provision', 'baseline', 'inject', 'detect', 'recover', 'verify', 'judge', 'teardown']);
    expect(seam.undone).toEqual(['revert the fake outage', 'stop the fake service']);
  });

  it('undoes what a target kind made before it failed: its teardown was registered first', async () => {
    const seam: Seam = { service: new FakeService(), undone: [] };
    const journal = await runDrill(loadedScenario(), { runId: 'seam-broken', registries: registries(seam, fakeKind(seam, { failAfterCreating: true })) });

    expect(journal.status).toBe('environment-error');
    expect(journal.error).toEqual({ code: 'FAKE_PROVISION_FAILED', message: 'the fake target failed after creating its pieces' });
    expect(journal.phases.map((p) => [p.name, p.status])).toEqual([
      ['provision', 'error'],
      ['teardown', 'passed'],
    ]);
    expect(seam.undone).toEqual(['stop the fake service']);
    expect(seam.service.running).toBe(false);
    expect(existsSync(seam.dir!)).toBe(false);
  });

  it('a machine that cannot host a fault (machineNeeds) stops the drill before anything is provisioned: exit 3, nothing created', async () => {
    const seam: Seam = { service: new FakeService(), undone: [] };
    const asked: string[] = [];
    const machineNeeds: DrillRegistries['machineNeeds'] = (fault) => {
      asked.push(fault.type);
      throw new DrillError('CGROUP_V1_MISSING', 'no cgroup v1 hierarchy with the memory controller is mounted here', 'environment');
    };
    const journal = await runDrill(loadedScenario(), { runId: 'seam-machine', registries: { ...registries(seam, fakeKind(seam)), machineNeeds } });
    expect(asked).toEqual(['k8s-pod-kill']);
    expect(journal.status).toBe('environment-error');
    expect(journal.error).toMatchObject({ code: 'CGROUP_V1_MISSING' });
    expect(journal.phases.map((p) => [p.name, p.status])).toEqual([
      ['provision', 'error'],
      ['teardown', 'passed'],
    ]);
    expect(seam.dir).toBeUndefined();
    expect(seam.service.running).toBe(false);
  });
});

describe('provisioningOrder', () => {
  const kind = (after: TargetKind<'postgres'>['after']) => ({ ...TARGET_KINDS.postgres, after });

  it('puts each kind after the kinds it depends on, otherwise in registry order', () => {
    expect(provisioningOrder(TARGET_KINDS)).toEqual(['postgres', 'network', 'service', 'kubernetes', 'regions']);
    const reordered = { kubernetes: TARGET_KINDS.kubernetes, service: TARGET_KINDS.service, network: TARGET_KINDS.network, postgres: TARGET_KINDS.postgres } as TargetKinds;
    expect(provisioningOrder(reordered)).toEqual(['postgres', 'kubernetes', 'network', 'service']);
  });

  it('refuses a cycle', () => {
    const cyclic = { ...TARGET_KINDS, postgres: kind(['kubernetes']) } as TargetKinds;
    expect(() => provisioningOrder(cyclic)).toThrow(/cycle/);
  });
});
