import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { V1Deployment, V1Secret, V1Service } from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/engine/errors.js';
import { releaseImage, badReleasePatch } from '../../src/injectors/k8s-bad-release.js';
import { databaseUrl } from '../../src/targets/kubernetes/database-url.js';
import { drillNamespaceName } from '../../src/targets/kubernetes/drill-namespace.js';
import { BUILTIN_MANIFESTS, loadManifests, runLabelValue } from '../../src/targets/kubernetes/manifest-set.js';
import { readyEndpoints } from '../../src/targets/kubernetes/readiness.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'drill-k8s-manifests-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the built-in system under drill', async () => {
  const objects = await loadManifests(BUILTIN_MANIFESTS, { namespace: 'drill-x', runId: '20261127T090000Z-k8s-demo', databaseUrl: 'postgresql://drill:s3cret@127.0.0.1:5433/drill' });
  const byName = (kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata?.name === name);

  it('has what the runbook acts on, every object in the drill namespace and labelled as the harness\'s', () => {
    expect(objects.map((o) => `${o.kind}/${o.metadata?.name}`)).toEqual([
      'ConfigMap/truststream-config',
      'Secret/truststream-db-credentials',
      'Deployment/truststream-api',
      'Deployment/truststream-api-green',
      'Service/truststream-api',
      'PodDisruptionBudget/truststream-api',
      'Deployment/truststream-worker',
      'Deployment/truststream-scheduler',
      'Deployment/truststream-reader',
    ]);
    for (const o of objects) {
      expect(o.metadata).toMatchObject({ namespace: 'drill-x', labels: { 'app.kubernetes.io/managed-by': 'drill', 'drill.dev/run': '20261127T090000Z-k8s-demo' } });
    }
  });

  it('routes the Service to blue, and blue and green select disjoint pods', () => {
    expect((byName('Service', 'truststream-api') as V1Service).spec?.selector).toEqual({ app: 'truststream-api', version: 'blue' });
    const blue = byName('Deployment', 'truststream-api') as V1Deployment;
    const green = byName('Deployment', 'truststream-api-green') as V1Deployment;
    expect(blue.spec?.selector.matchLabels).toEqual({ app: 'truststream-api', version: 'blue' });
    expect(green.spec?.template.metadata?.labels).toMatchObject({ app: 'truststream-api', version: 'green' });
  });

  it('puts the drill database URL into the Secret as stringData (the apiserver encodes it)', async () => {
    expect((byName('Secret', 'truststream-db-credentials') as V1Secret).stringData).toEqual({ DATABASE_URL: 'postgresql://drill:s3cret@127.0.0.1:5433/drill' });
    const without = (await loadManifests(BUILTIN_MANIFESTS, { namespace: 'n', runId: 'r' })).find((o) => o.kind === 'Secret') as V1Secret;
    expect(without.stringData?.DATABASE_URL).toBe('postgresql://truststream@truststream-db:5432/truststream');
  });
});

describe('user manifests', () => {
  it('reads a file or a directory of YAML files in name order', async () => {
    writeFileSync(path.join(dir, 'b.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: second}\n');
    writeFileSync(path.join(dir, 'a.yml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: first}\n---\n');
    writeFileSync(path.join(dir, 'notes.txt'), 'ignored');
    expect((await loadManifests(dir, { namespace: 'n', runId: 'r' })).map((o) => o.metadata?.name)).toEqual(['first', 'second']);
    expect(await loadManifests(path.join(dir, 'b.yaml'), { namespace: 'n', runId: 'r' })).toHaveLength(1);
  });

  it('refuses what cannot be applied into the drill namespace, with input errors', async () => {
    const bad = path.join(dir, 'bad');
    rmSync(bad, { recursive: true, force: true });
    writeFileSync(path.join(dir, 'ns.yaml'), 'apiVersion: v1\nkind: Namespace\nmetadata: {name: prod}\n');
    writeFileSync(path.join(dir, 'nokind.yaml'), 'apiVersion: v1\nmetadata: {name: x}\n');
    const load = (f: string) => loadManifests(path.join(dir, f), { namespace: 'n', runId: 'r' });
    await expect(load('ns.yaml')).rejects.toThrow(/is a Namespace/);
    await expect(load('nokind.yaml')).rejects.toThrow(/line 1: every document needs apiVersion, kind and metadata.name/);
    await expect(load('missing.yaml')).rejects.toThrow(InputError);
    // The hazards of a scenario file apply to manifests too: no cycles, no devices, no giants.
    writeFileSync(path.join(dir, 'cycle.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: &d {x: *d}\n');
    writeFileSync(path.join(dir, 'huge.yaml'), `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: h}\ndata: {x: "${'a'.repeat(1024 * 1024)}"}\n`);
    await expect(load('cycle.yaml')).rejects.toThrow(/line 4: alias \*d is inside the value &d names/);
    await expect(load('huge.yaml')).rejects.toMatchObject({ code: 'MANIFEST_INVALID', message: expect.stringMatching(/larger than the 1 MiB/) });
    await expect(loadManifests('/dev/zero', { namespace: 'n', runId: 'r' })).rejects.toThrow(/neither a file nor a directory/);
  });
});

describe('names and values', () => {
  it('makes namespace names and label values Kubernetes accepts', () => {
    expect(drillNamespaceName('20261127T090424Z-k8s-pod-kill-self-heal')).toBe('drill-20261127t090424z-k8s-pod-kill-self-heal');
    expect(drillNamespaceName('x'.repeat(100))).toMatch(/^drill-x{50}$/);
    expect(drillNamespaceName('__')).toBe('drill-run');
    expect(runLabelValue('a/b:c')).toBe('a-b-c');
    expect(runLabelValue(`-${'y'.repeat(80)}-`)).toMatch(/^y{62}$/);
  });

  it('builds DATABASE_URL with the password encoded', () => {
    expect(databaseUrl({ host: '127.0.0.1', port: 5433, user: 'drill', database: 'drill', password: 'p@ss/word' })).toBe('postgresql://drill:p%40ss%2Fword@127.0.0.1:5433/drill');
    expect(databaseUrl({ host: '::1', port: 5432, user: 'postgres', database: 'drill' })).toBe('postgresql://postgres@[::1]:5432/drill');
  });

  it('gives a release its own image tag, whatever the image reference looks like', () => {
    expect(releaseImage('registry.k8s.io/pause:3.10', '4.4.1-broken')).toBe('registry.k8s.io/pause:4.4.1-broken');
    expect(releaseImage('localhost:5000/truststream/api', 'v2')).toBe('localhost:5000/truststream/api:v2');
    expect(releaseImage('ghcr.io/t/api@sha256:abc', 'v2')).toBe('ghcr.io/t/api:v2');
  });

  it('gives a bad release its version as image tag, its change-cause and labels', () => {
    const d: V1Deployment = { metadata: { name: 'api' }, spec: { selector: {}, template: { spec: { containers: [{ name: 'api', image: 'r/api:1' }, { name: 'proxy', image: 'r/proxy:1' }] } } } };
    expect(badReleasePatch(d, '4.4.1', undefined)).toEqual({
      metadata: { annotations: { 'kubernetes.io/change-cause': 'TrustStram 4.4.1' } },
      spec: {
        template: {
          metadata: { labels: { 'drill.dev/broken': 'true', 'app.kubernetes.io/version': '4.4.1' } },
          spec: { containers: [{ name: 'api', image: 'r/api:4.4.1' }, { name: 'proxy', image: 'r/proxy:4.4.1' }] },
        },
      },
    });
  });

  it('moves the readiness path of a bad release only on containers that have an HTTP readiness probe', () => {
    const d: V1Deployment = {
      metadata: { name: 'api' },
      spec: {
        selector: {},
        template: {
          spec: {
            containers: [
              { name: 'api', image: 'r/api:1', readinessProbe: { httpGet: { path: '/health', port: 8080 } } },
              { name: 'proxy', image: 'r/proxy:1' },
            ],
          },
        },
      },
    };
    const patch = badReleasePatch(d, '4.4.0', 'r/api:4.4.0', '/ready-lies') as { spec: { template: { spec: { containers: unknown[] } } } };
    expect(patch.spec.template.spec.containers).toEqual([
      { name: 'api', image: 'r/api:4.4.0', readinessProbe: { httpGet: { path: '/ready-lies', port: 8080 } } },
      { name: 'proxy', image: 'r/api:4.4.0' },
    ]);
  });

  it('counts ready endpoints per pod: nil ready is ready, terminating ones are not', () => {
    const ready = readyEndpoints([
      {
        addressType: 'IPv4',
        endpoints: [
          { addresses: ['10.0.0.1'], conditions: { ready: true }, targetRef: { name: 'a' } },
          { addresses: ['10.0.0.2'], conditions: {}, targetRef: { name: 'b' } },
          { addresses: ['10.0.0.3'], conditions: { ready: false, terminating: true }, targetRef: { name: 'c' } },
        ],
      },
      { addressType: 'IPv4', endpoints: [{ addresses: ['10.0.0.1'], conditions: { ready: true }, targetRef: { name: 'a' } }] },
    ]);
    expect(ready).toEqual(['a', 'b']);
  });
});
