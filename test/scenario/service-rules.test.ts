import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadScenarioFile } from '../../src/scenario/loader.js';
import { validationError } from './helpers.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'drill-service-rules-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function scenario(name: string, body: string): string {
  const file = path.join(dir, `${name}.yaml`);
  writeFileSync(file, `name: ${name}\ntitle: t\nrunbook: r\nseverity: P1\nfaults:\n  - {type: pg-primary-crash}\nrecovery:\n  - step: stop-writes\n${body}`);
  return file;
}

describe('service scenario rules', () => {
  it('loads a plain-process service drill with its defaults: probe through the service, API canary, load, verify steps', async () => {
    const { scenario: s } = await loadScenarioFile(
      scenario(
        'ok',
        'targets: {postgres: {}, service: {}}\n' +
          'workload:\n  canary: {via: api}\n  probes:\n    - {type: http, name: health, target: service}\n    - {type: http, name: fixed, url: "http://127.0.0.1:9/health"}\n' +
          '  load: {}\n' +
          'verify:\n  - step: smoke\n  - step: load\n',
      ),
    );
    expect(s.targets.service).toEqual({ version: '4.4.0', replicas: { api: 2, worker: 1, scheduler: 1, reader: 1 }, readyTimeout: 60_000 });
    expect(s.workload.canary).toEqual({ interval: 100, via: 'api' });
    expect(s.workload.probes[0]).toEqual({ type: 'http', name: 'health', target: 'service', expectStatus: 200, interval: 500, timeout: 2000, service: true });
    expect(s.workload.load).toEqual({ driver: 'autocannon', path: '/health', component: 'api', requests: 1000, connections: 10, duration: 30_000, requestTimeout: 10_000 });
    expect(s.verify).toEqual([
      { step: 'smoke', workerWithin: 10_000, requestTimeout: 5000, timeout: 600_000 },
      { step: 'load', timeout: 600_000 },
    ]);
    expect(s.expect.performance).toEqual({ p99Ratio: 3, p99Floor: 100, errorRate: 0.01 });
  });

  it('places every service problem at its line and key', async () => {
    const file = scenario(
      'bad',
      'targets: {service: {version: 4.9.9}, kubernetes: {}}\n' +
        'workload:\n  canary: {via: api}\n  probes:\n    - {type: http, name: both, url: "http://127.0.0.1:9/", target: service}\n    - {type: http, name: neither}\n    - {type: http, name: mixed, url: "http://127.0.0.1:9/", path: /health}\n' +
        '  load: {driver: ab, path: /api/accounts/1}\n' +
        'verify:\n  - step: smoke\n' +
        'expect: {performance: {p99Ratio: 2}}\n',
    );
    const error = await validationError(loadScenarioFile(file));
    const issues = error.issues.map((i) => `${i.line} ${i.keyPath}: ${i.message}`);
    expect(issues).toEqual([
      // Without targets.postgres the fault and the step that act on it say so too (needs-rules.ts).
      expect.stringMatching(/^6 faults\[0\]\.type: pg-primary-crash acts on PostgreSQL/),
      expect.stringMatching(/^8 recovery\[0\]\.step: stop-writes acts on PostgreSQL/),
      expect.stringMatching(/^9 targets\.service: the service runs against the drill's PostgreSQL: add targets\.postgres/),
      expect.stringMatching(/^9 targets\.service: with targets\.kubernetes the service runs in the cluster/),
      '9 targets.service.version: "4.9.9" is not allowed; allowed: 4.3.9, 4.4.0, 4.4.1, 4.4.2, 4.4.3, 4.4.4, 4.4.5',
      '13 workload.probes[0].type: give either url or target, not both',
      '14 workload.probes[1].type: name what to GET: url: <a fixed URL>, or target: service (with path, default /health)',
      '15 workload.probes[2].path: path goes with target: service; a url probe GETs its url as written',
      expect.stringMatching(/^16 workload\.load\.driver: ab can send the API token only on its command line/),
      expect.stringMatching(/^19 expect\.performance: performance is judged on a load run after recovery/),
    ]);
  });

  it('asks for targets.service when a probe, the canary, a load, a smoke step or a restart talks to the service', async () => {
    const file = scenario(
      'no-service',
      'targets: {postgres: {}}\n' +
        'workload:\n  canary: {via: api}\n  probes:\n    - {type: http, name: health, target: service}\n    - {type: http, name: fixed, url: "http://127.0.0.1:9/health"}\n  load: {}\n' +
        'verify:\n  - step: smoke\n  - step: load\n',
    );
    writeFileSync(file, readFileSync(file, 'utf8').replace('  - step: stop-writes\n', '  - step: stop-writes\n  - step: smoke\n  - step: service-restart\n'));
    const error = await validationError(loadScenarioFile(file));
    const issues = error.issues.map((i) => `${i.line} ${i.keyPath}: ${i.message}`);
    // Declared on the schema variants (needs(..., 'service')), and for the canary and load settings in service-rules.ts;
    // the url probe needs nothing.
    expect(issues).toEqual([
      '9 recovery[1].step: smoke talks to the service: add targets.service (e.g. service: {version: 4.4.0}), or run the built-in system on Kubernetes (targets.kubernetes with targets.postgres)',
      '10 recovery[2].step: service-restart talks to the service: add targets.service (e.g. service: {version: 4.4.0}), or run the built-in system on Kubernetes (targets.kubernetes with targets.postgres)',
      '13 workload.canary.via: the API canary (via: api) talks to the service: add targets.service (e.g. service: {version: 4.4.0}), or run the built-in system on Kubernetes (targets.kubernetes with targets.postgres)',
      '15 workload.probes[0].target: http with target: service talks to the service: add targets.service (e.g. service: {version: 4.4.0}), or run the built-in system on Kubernetes (targets.kubernetes with targets.postgres)',
      '17 workload.load: the load run talks to the service: add targets.service (e.g. service: {version: 4.4.0}), or run the built-in system on Kubernetes (targets.kubernetes with targets.postgres)',
      '19 verify[0].step: smoke talks to the service: add targets.service (e.g. service: {version: 4.4.0}), or run the built-in system on Kubernetes (targets.kubernetes with targets.postgres)',
      '20 verify[1].step: load talks to the service: add targets.service (e.g. service: {version: 4.4.0}), or run the built-in system on Kubernetes (targets.kubernetes with targets.postgres)',
    ]);
  });

  it('a load verify step needs workload.load', async () => {
    const error = await validationError(
      loadScenarioFile(scenario('no-load', 'targets: {postgres: {}, service: {}}\nworkload:\n  probes:\n    - {type: http, name: h, target: service}\nverify:\n  - step: load\n')),
    );
    expect(error.issues.map((i) => `${i.line} ${i.keyPath}: ${i.message}`)).toEqual([expect.stringMatching(/^14 verify\[0\]\.step: a load step repeats workload\.load after recovery/)]);
  });

  it('leaked credentials: the api-token kind and reissued tokens are refused on Kubernetes, with what to use instead', async () => {
    const file = scenario('breach-k8s', 'targets: {postgres: {}, kubernetes: {}}\nworkload:\n  probes:\n    - {type: http, name: h, target: service}\n');
    writeFileSync(
      file,
      readFileSync(file, 'utf8')
        .replace('  - {type: pg-primary-crash}\n', '  - {type: credential-leak, kind: api-token}\n  - {type: credential-leak, kind: postgres-password}\n')
        .replace('  - step: stop-writes\n', '  - step: revoke-all-tokens\n  - {step: revoke-all-tokens, reissue: false}\n'),
    );
    const error = await validationError(loadScenarioFile(file));
    expect(error.issues.map((i) => `${i.line} ${i.keyPath}: ${i.message}`)).toEqual([
      expect.stringMatching(/^6 faults\[0\]\.kind: credential-leak api-token runs against the plain-process service \(targets\.service\) for now: .*use kind: postgres-password here/),
      expect.stringMatching(/^9 recovery\[0\]\.step: revoke-all-tokens cannot yet give the drill's clients a new token on Kubernetes .*set reissue: false \(or apiTokens: false to leave the API tokens alone\)$/),
    ]);
    // The same with targets.service is a breach drill that loads.
    const plain = scenario('breach-plain', 'targets: {postgres: {}, service: {}}\nworkload:\n  probes:\n    - {type: http, name: h, target: service}\n');
    writeFileSync(plain, readFileSync(plain, 'utf8').replace('  - {type: pg-primary-crash}\n', '  - {type: credential-leak, kind: api-token}\n').replace('  - step: stop-writes\n', '  - step: revoke-all-tokens\n'));
    // The Kubernetes kind's defaults are not filled into another kind.
    expect(Object.keys((await loadScenarioFile(plain)).scenario.faults[0]!).sort()).toEqual(['attacker', 'kind', 'type']);
    expect((await loadScenarioFile(plain)).scenario.recovery[0]).toEqual({
      step: 'revoke-all-tokens',
      emergency: true,
      apiTokens: true,
      databaseRoles: true,
      terminateSessions: true,
      reissue: true,
      serviceAccountTokens: 'all',
      rotateSigningKey: false,
      timeout: 600_000,
    });
  });

  it('leaked service-account tokens: need targets.kubernetes; serviceAccount and tokens only on that kind', async () => {
    const file = scenario('breach-sa-no-k8s', 'targets: {postgres: {}}\n');
    writeFileSync(
      file,
      readFileSync(file, 'utf8').replace(
        '  - {type: pg-primary-crash}\n',
        '  - {type: credential-leak, kind: k8s-service-account-token}\n  - {type: credential-leak, kind: postgres-password, tokens: [legacy]}\n',
      ).replace('  - step: stop-writes\n', '  - {step: revoke-all-tokens, serviceAccountTokens: all}\n'),
    );
    const error = await validationError(loadScenarioFile(file));
    const issues = error.issues.map((i) => `${i.line} ${i.keyPath}: ${i.message}`);
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^6 faults\[0\].*targets\.kubernetes/),
        expect.stringMatching(/^7 faults\[1\]\.tokens: tokens applies to kind: k8s-service-account-token only \(this fault leaks a postgres-password\); remove it$/),
        expect.stringMatching(/^9 recovery\[0\]\.serviceAccountTokens: serviceAccountTokens says which Kubernetes tokens .* no targets\.kubernetes; remove it, or add the target$/),
      ]),
    );
    // On Kubernetes with the API tokens left alone it loads; the account and the tokens are left to the kind's defaults (applied by its injector).
    const k8s = scenario('breach-sa', 'targets: {postgres: {}, kubernetes: {}}\nworkload:\n  probes:\n    - {type: http, name: h, target: service, path: /api/accounts/1}\n');
    writeFileSync(
      k8s,
      readFileSync(k8s, 'utf8')
        .replace('  - {type: pg-primary-crash}\n', '  - {type: credential-leak, kind: k8s-service-account-token}\n')
        .replace('  - step: stop-writes\n', '  - {step: revoke-all-tokens, apiTokens: false, serviceAccountTokens: bound-only}\n'),
    );
    const loaded = (await loadScenarioFile(k8s)).scenario;
    expect(loaded.faults[0]).toMatchObject({ kind: 'k8s-service-account-token' });
    expect(Object.keys(loaded.faults[0]!)).not.toContain('tokens');
    expect(loaded.recovery[0]).toMatchObject({ apiTokens: false, serviceAccountTokens: 'bound-only' });
  });

  it('isolate-compromised-nodes compromised: leaked-pods needs a pod-bound token to leak (exit 2 naming the line and key); with one it loads', async () => {
    const withLeak = (name: string, tokens: string) => {
      const file = scenario(name, 'targets: {postgres: {}, kubernetes: {}}\nworkload:\n  probes:\n    - {type: http, name: h, target: service, path: /api/accounts/1}\n');
      writeFileSync(
        file,
        readFileSync(file, 'utf8')
          .replace('  - {type: pg-primary-crash}\n', `  - {type: credential-leak, kind: k8s-service-account-token, tokens: ${tokens}}\n`)
          .replace('  - step: stop-writes\n', '  - {step: isolate-compromised-nodes, compromised: leaked-pods}\n'),
      );
      return file;
    };
    const error = await validationError(loadScenarioFile(withLeak('isolate-no-pod-token', '[bound, legacy]')));
    expect(error.issues.map((i) => `${i.line} ${i.keyPath}: ${i.message}`)).toEqual([
      expect.stringMatching(/^8 recovery\[0\]\.compromised: compromised: leaked-pods isolates the pods leaked tokens are bound to, and no fault leaks one; add tokens: \[pod\]/),
    ]);
    const ignored = withLeak('isolate-pod-token-account', '[pod]');
    writeFileSync(ignored, readFileSync(ignored, 'utf8').replace('compromised: leaked-pods}', 'compromised: leaked-pods, serviceAccount: web}'));
    expect((await validationError(loadScenarioFile(ignored))).issues.map((i) => `${i.line} ${i.keyPath}: ${i.message}`)).toEqual([
      expect.stringMatching(/^8 recovery\[0\]\.serviceAccount: serviceAccount picks the compromised pods with compromised: service-account; .*remove it$/),
    ]);
    const loaded = (await loadScenarioFile(withLeak('isolate-pod-token', '[pod]'))).scenario;
    expect(loaded.recovery[0]).toMatchObject({ step: 'isolate-compromised-nodes', compromised: 'leaked-pods', serviceAccount: 'default' });
  });

  it('rotateSigningKey: only with provider local (auto, kind, kubeconfig: exit 2 naming the line and key), and not with bound-only', async () => {
    const withStep = (name: string, targets: string, step: string) => {
      const file = scenario(name, `${targets}\nworkload:\n  probes:\n    - {type: http, name: h, target: service, path: /api/accounts/1}\n`);
      writeFileSync(
        file,
        readFileSync(file, 'utf8')
          .replace('  - {type: pg-primary-crash}\n', '  - {type: credential-leak, kind: k8s-service-account-token}\n')
          .replace('  - step: stop-writes\n', `  - ${step}\n`),
      );
      return file;
    };
    const rotate = '{step: revoke-all-tokens, apiTokens: false, reissue: false, rotateSigningKey: true}';
    for (const [provider, shown] of [['{}', 'auto'], ['{provider: kind}', 'kind'], ['{provider: kubeconfig, namespace: n}', 'kubeconfig'], ['{provider: auto}', 'auto']] as const) {
      const error = await validationError(loadScenarioFile(withStep(`rotate-${shown}-${provider.length}`, `targets: {postgres: {}, kubernetes: ${provider}}`, rotate)));
      // (kubeconfig also names its missing file: only the rotation's issue matters here)
      expect(error.issues.map((i) => `${i.line} ${i.keyPath}: ${i.message}`)).toContainEqual(
        expect.stringMatching(new RegExp(`^8 recovery\\[0\\]\\.rotateSigningKey: rotateSigningKey restarts kube-apiserver .* targets\\.kubernetes\\.provider is ${shown}; set targets\\.kubernetes\\.provider: local .*or remove rotateSigningKey$`)),
      );
    }
    const boundOnly = await validationError(
      loadScenarioFile(withStep('rotate-bound-only', 'targets: {postgres: {}, kubernetes: {provider: local}}', '{step: revoke-all-tokens, apiTokens: false, reissue: false, serviceAccountTokens: bound-only, rotateSigningKey: true}')),
    );
    expect(boundOnly.issues.map((i) => i.message)).toEqual([expect.stringMatching(/serviceAccountTokens is bound-only; use serviceAccountTokens: all/)]);
    const loaded = (await loadScenarioFile(withStep('rotate-local', 'targets: {postgres: {}, kubernetes: {provider: local}}', rotate))).scenario;
    expect(loaded.recovery[0]).toMatchObject({ rotateSigningKey: true, serviceAccountTokens: 'all' });
  });
});
