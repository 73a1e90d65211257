import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { chownSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BatchV1Api, CoreV1Api, type KubernetesObject, type V1Job, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadKubeConfig } from '../../src/targets/kubernetes/cluster-client.js';
import { kubeApi } from '../../src/targets/kubernetes/kube-api.js';
import { buildDrillImage, type DrillImage } from '../../src/targets/images/drill-image.js';
import { DEJAVU_DIR } from '../../src/targets/images/fonts-layer.js';
import { APP_USER } from '../../src/targets/images/node-runtime-layer.js';
import { TIMELINE_PNG_FILE } from '../../src/report/timeline-png.js';
import { DEPLOY_DIR, readManifestFile } from '../support/deploy-manifests.js';
import { importIntoRealNodes, removeFromRealNodes } from '../support/real-node-images.js';
import { readJournal, runCli, runDirFrom } from '../e2e/helpers.js';
import { statusOf, waitUntil } from './helpers.js';
import { recordedTestDir, removeRecordedTestDir } from '../support/recorded-test-dir.js';

// The drill image (src/targets/images/drill-image.ts: built from this machine's files, no
// container engine, no registry) imported into the shared control plane's real nodes, and
// deploy/job.yaml's pod running a real drill in it: PostgreSQL started by the native provider
// inside the container, as its non-root user, on the pod's loopback only. Changed from the
// manifest only where this cluster forces it: the image's local tag with pull policy Never, a
// hostPath for the results (the PVC never binds here, no provisioner) so the host can verify the
// evidence, and the scenario ConfigMap holding one catalogue scenario. Two Jobs at once: one that
// must pass, and a negative control that must fail (the Job Failed, the container's exit code 1).
const shared = inject('k8s');
const kc = loadKubeConfig(shared.kubeconfigPath, shared.context);
const api = kubeApi(kc);
const core = kc.makeApiClient(CoreV1Api);
const batch = kc.makeApiClient(BatchV1Api);

const namespace = `drill-pod-${randomBytes(3).toString('hex')}`;
const PASSING = 'pg-primary-failure-promotion';
const FAILING = 'pg-restore-skips-verification';
const scenarioFile = (name: string) => path.resolve(import.meta.dirname, '../../drills/scenarios', `${name}.yaml`);

let image: DrillImage;
let keyDir: string;
/** The signing key the Secret holds, PEM (PKCS#8). */
let privateKeyPem: string;
const resultsDirs = new Map<string, string>();

function inNamespace(objects: KubernetesObject[]): KubernetesObject[] {
  return objects.map((o) => ({ ...o, metadata: { ...o.metadata, namespace } }));
}

/** deploy/job.yaml's Job for one scenario, with only what this cluster forces changed. */
function drillJob(scenario: string, resultsDir: string): V1Job {
  const job = structuredClone(readManifestFile(path.join(DEPLOY_DIR, 'job.yaml'))[0] as V1Job);
  job.metadata = { ...job.metadata, name: scenario, namespace };
  const pod = job.spec!.template.spec!;
  const container = pod.containers[0]!;
  container.image = image.tag;
  container.imagePullPolicy = 'Never';
  pod.volumes = pod.volumes!.map((volume) => {
    if (volume.name === 'results') return { name: 'results', hostPath: { path: resultsDir, type: 'Directory' } };
    if (volume.name === 'scenarios') return { name: 'scenarios', configMap: { name: `scenario-${scenario}` } };
    return volume;
  });
  return job;
}

async function finished(name: string): Promise<{ condition: string; pod: V1Pod }> {
  return waitUntil(
    `Job ${namespace}/${name} to finish`,
    async () => {
      const job = await batch.readNamespacedJob({ name, namespace });
      const condition = job.status?.conditions?.find((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
      if (!condition) return undefined;
      const pod = (await core.listNamespacedPod({ namespace, labelSelector: `job-name=${name}` })).items[0]!;
      return { condition: condition.type, pod };
    },
    240_000,
  );
}

const exitCode = (pod: V1Pod) => pod.status?.containerStatuses?.[0]?.state?.terminated?.exitCode;
const log = (pod: V1Pod) => core.readNamespacedPodLog({ name: pod.metadata!.name!, namespace, container: 'drill' });

beforeAll(async () => {
  // 600 s: on a cold cache (CI) this is an npm ci, hashing 20 000 files, a ~430 MB archive and an import into each node.
  // Cached by content: after the first build on a machine, only the package is hashed again.
  image = await buildDrillImage();
  const imported = await importIntoRealNodes(shared.root, shared.realNodes, image.path);
  expect(imported.map((images) => images.map((i) => i.ref))).toEqual(shared.realNodes.map(() => [image.tag]));

  keyDir = recordedTestDir('drill-pod-key-');
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  writeFileSync(path.join(keyDir, 'drill-evidence.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  for (const file of ['serviceaccount.yaml', 'kubeconfig.yaml', 'system.yaml']) {
    for (const obj of inNamespace(readManifestFile(path.join(DEPLOY_DIR, file)))) await api.objects.create(obj);
  }
  await core.createNamespacedSecret({
    namespace,
    body: { metadata: { name: 'drill-evidence-signing-key' }, stringData: { 'drill-evidence.key': privateKeyPem } },
  });
  for (const scenario of [PASSING, FAILING]) {
    // The container's user writes the results; a hostPath keeps the host's owner and mode.
    const dir = recordedTestDir('drill-pod-results-');
    chownSync(dir, APP_USER.uid, APP_USER.gid);
    resultsDirs.set(scenario, dir);
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: `scenario-${scenario}` }, data: { [`${scenario}.yaml`]: readFileSync(scenarioFile(scenario), 'utf8') } } });
    await batch.createNamespacedJob({ namespace, body: drillJob(scenario, dir) });
  }
}, 600_000);

afterAll(async () => {
  await core.deleteNamespace({ name: namespace }).catch(() => undefined);
  await waitUntil(`namespace ${namespace} gone`, async () => ((await statusOf(core.readNamespace({ name: namespace }))).code === 404 ? true : undefined), 120_000);
  if (image) await removeFromRealNodes(shared.root, shared.realNodes, image.tag);
  for (const dir of [...resultsDirs.values(), keyDir]) if (dir) removeRecordedTestDir(dir);
}, 180_000);

describe('the drill image as a pod on real nodes', () => {
  it(`runs ${PASSING} inside the pod: the Job completes, the log shows the drill passed with its RTO, the evidence verifies on the host`, async () => {
    const { condition, pod } = await finished(PASSING);
    const output = await log(pod);
    expect(condition, output).toBe('Complete');
    expect(exitCode(pod)).toBe(0);
    expect(pod.spec!.nodeName).toMatch(/^drill-node-/);
    const passed = new RegExp(`drill ${PASSING}: PASSED \\(RTO ≤ (\\d+(?:\\.\\d+)?m?s)`).exec(output);
    expect(passed, output).not.toBeNull();
    expect(output).toContain('1 drill, 1 passed, 0 failed; exit 0');

    const runDir = runDirFrom(output, path.join(resultsDirs.get(PASSING)!, 'reports'));
    const journal = readJournal(runDir);
    expect(journal.status).toBe('passed');
    // The RTO the log shows is the one the drill measured (its journal, on the hostPath).
    const rtoMs = journal.measurements.rtoMs;
    expect(typeof rtoMs, JSON.stringify(journal.measurements)).toBe('number');
    const [, amount, unit] = /^(\d+(?:\.\d+)?)(ms|s)$/.exec(passed![1]!)!;
    expect(Math.abs(Number(amount) * (unit === 's' ? 1000 : 1) - rtoMs!)).toBeLessThan(10);
    const verified = await runCli(['verify-evidence', runDir, '--public-key', path.join(keyDir, 'drill-evidence.pub')]);
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
    // Signed in the pod with the key from the Secret: another key does not verify it.
    expect(verified.stdout).toContain('evidence intact and signed');
    const otherKey = path.join(keyDir, 'other.pub');
    writeFileSync(otherKey, generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }));
    expect((await runCli(['verify-evidence', runDir, '--public-key', otherKey])).code).toBe(1);
    expect(existsSync(path.join(resultsDirs.get(PASSING)!, 'reports', 'junit.xml'))).toBe(true);
    // The image holds DejaVu Sans when this machine has it (fonts-layer.ts): the report's picture is drawn in the pod.
    if (existsSync(path.join(DEJAVU_DIR, 'DejaVuSans.ttf'))) expect(existsSync(path.join(runDir, TIMELINE_PNG_FILE)), readdirSync(runDir).join(' ')).toBe(true);
  });

  it(`negative control: ${FAILING} fails inside the pod: the Job Failed, the container exited 1`, async () => {
    const { condition, pod } = await finished(FAILING);
    const output = await log(pod);
    expect(condition, output).toBe('Failed');
    expect(exitCode(pod)).toBe(1);
    expect(output).toContain(`drill ${FAILING}: FAILED`);
    expect(output).toContain('1 drill, 0 passed, 1 failed; exit 1');
    // readJournal holds a catalogue drill's outcome to its negative-control tag.
    expect(readJournal(runDirFrom(output, path.join(resultsDirs.get(FAILING)!, 'reports'))).status).toBe('failed');
  });

  it('the signing key stays out of every output: no pod log and no file under the results directories (reports, junit.xml, cache) holds it in any form', async () => {
    const body = privateKeyPem.split('\n').filter((l) => l !== '' && !l.startsWith('-----'));
    const der = Buffer.from(body.join(''), 'base64');
    // The PEM's body (each line and joined), the whole PEM base64-encoded (a Secret's data), the key's DER in hex.
    const forms = [...body, body.join(''), Buffer.from(privateKeyPem).toString('base64'), der.toString('hex')];
    const outputs: { where: string; text: string }[] = [];
    for (const scenario of [PASSING, FAILING]) {
      const { pod } = await finished(scenario);
      outputs.push({ where: `log of ${pod.metadata!.name}`, text: await log(pod) });
      const files = readdirSync(resultsDirs.get(scenario)!, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
      for (const f of files) outputs.push({ where: path.join(f.parentPath, f.name), text: readFileSync(path.join(f.parentPath, f.name)).toString('latin1') });
    }
    // The check reads what it should: the passing run's journal and junit.xml are among the files.
    expect(outputs.some((o) => o.where.endsWith('junit.xml'))).toBe(true);
    expect(outputs.some((o) => o.where.endsWith('journal.json'))).toBe(true);
    // The detector finds the key where it is (the PEM itself, a Secret's base64 of it).
    expect(forms.some((form) => privateKeyPem.includes(form)) && forms.some((form) => Buffer.from(privateKeyPem).toString('base64').includes(form))).toBe(true);
    const leaks = outputs.flatMap((o) => forms.filter((form) => o.text.includes(form)).map(() => o.where));
    expect(leaks).toEqual([]);
  });
});
