import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep } from '../../src/engine/clock.js';
import { reapResources } from '../../src/engine/reaper.js';
import { ResourceLedger } from '../../src/engine/resource-ledger.js';
import { shimSocketPath, shimsOf } from '../../src/targets/containerd/shim-processes.js';
import { PrivateContainerd } from '../../src/targets/containerd/private-containerd.js';
import { writeDockerArchive, type ImageArchive } from '../../src/targets/images/docker-archive.js';
import { hostFile } from '../../src/targets/images/host-file.js';
import { layerSpec } from '../../src/targets/images/layer-spec.js';
import { buildLayer } from '../../src/targets/images/layer-store.js';
import { buildPauseImage, PAUSE_IMAGE } from '../../src/targets/images/pause-image.js';
import { buildServiceImages, PATH_ENV, type ServiceImages } from '../../src/targets/images/service-images.js';
import { recordedProcessAlive } from '../../src/targets/kubernetes/recorded-process.js';
import { currentMounts, mountsUnder } from '../../src/targets/process/mounts.js';

// containerd, runc and overlayfs mounts need root; on this project's machines (and CI) tests run
// as root, with containerd installed by `npm run setup:all`.
const root = process.getuid?.() === 0;
const SKIP = root ? '' : ' (skipped: needs root)';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'drill-ctd-test-'));
const cacheDir = path.join(tmp, 'cache');
const ledgerFile = path.join(tmp, 'resources.jsonl');
const ledger = new ResourceLedger(ledgerFile);
let containerd: PrivateContainerd | undefined;
let service: ServiceImages;
let pause: ImageArchive;

// What the service prints: the version it was given and the network interfaces it can see.
const bundle = path.join(tmp, 'probe.mjs');
writeFileSync(
  bundle,
  `import { readFileSync } from 'node:fs';
const interfaces = readFileSync('/proc/net/dev', 'utf8').split('\\n').slice(2).map((l) => l.split(':')[0].trim()).filter(Boolean);
console.log(JSON.stringify({ version: process.env.VERSION, uid: process.getuid(), interfaces }));
`,
);

beforeAll(async () => {
  if (!root) return;
  service = await buildServiceImages({ bundle, versions: ['4.4.0', '4.5.0-crashloop'], cacheDir });
  pause = await buildPauseImage({ cacheDir });
  containerd = await PrivateContainerd.start({ ledger }, (c) => (containerd = c));
}, 300_000);

afterAll(async () => {
  await containerd?.dispose();
  // Whatever a failed test left: the same path a killed drill's leftovers take.
  await reapResources(ledgerFile);
  rmSync(tmp, { recursive: true, force: true });
}, 120_000);

/** `ctr run --rm` to completion. */
async function runToEnd(c: PrivateContainerd, image: string, id: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const result = await c.ctr(['--namespace', 'k8s.io', 'run', '--rm', ...c.runFlags(id), image, id], { timeoutMs: 120_000, okCodes: [...Array(256).keys()] });
  return result;
}

async function waitForTask(c: PrivateContainerd, id: string, status: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const tasks = (await c.ctr(['--namespace', 'k8s.io', 'tasks', 'ls'])).stdout;
    if (new RegExp(`^${id}\\s+\\d+\\s+${status}`, 'm').test(tasks)) return;
    await sleep(100);
  }
  throw new Error(`task ${id} not ${status} within 30s`);
}

/** Everything of a containerd instance that could outlive it. */
function leftovers(c: PrivateContainerd, containerdPid: number, cgroup: string): string[] {
  const left: string[] = [];
  if (recordedProcessAlive(containerdPid, c.layout.config)) left.push(`containerd ${containerdPid}`);
  for (const shim of shimsOf(c.socket)) left.push(`shim ${shim.pid}`);
  if (existsSync(c.layout.dir)) left.push(`dir ${c.layout.dir}`);
  for (const m of mountsUnder(c.layout.dir, currentMounts())) left.push(`mount ${m.path}`);
  if (existsSync(path.join('/sys/fs/cgroup/memory', cgroup))) left.push(`cgroup ${cgroup}`);
  return left;
}

/** A pause container left running (detached), as a drill leaves pods: its shim socket and cgroup. */
async function detachedPause(c: PrivateContainerd, id: string): Promise<{ socket: string; cgroup: string }> {
  await c.ctr(['--namespace', 'k8s.io', 'run', '--detach', ...c.runFlags(id), PAUSE_IMAGE, id]);
  await waitForTask(c, id, 'RUNNING');
  const flags = c.runFlags(id);
  return { socket: shimSocketPath({ address: c.socket, namespace: 'k8s.io', id }), cgroup: flags[flags.indexOf('--cgroup') + 1]! };
}

describe.skipIf(!root)(`private containerd (real containerd ${SKIP})`, () => {
  it('imports the archives into k8s.io and lists every tag', async () => {
    const c = containerd!;
    expect(c.versions.containerd).toMatch(/^\d+\.\d+\.\d+$/);
    const imported = [...(await c.importImages(service.path)), ...(await c.importImages(pause.path))];
    expect(imported.map((i) => i.ref)).toEqual(['drill.local/truststream:4.4.0', 'drill.local/truststream:4.5.0-crashloop', PAUSE_IMAGE]);
    const listed = await c.images();
    for (const image of imported) expect(listed).toContainEqual(image);
  });

  it('runs node from the service image in its own empty network namespace: only node and its libraries are needed', async () => {
    const c = containerd!;
    for (const version of ['4.4.0', '4.5.0-crashloop']) {
      const run = await runToEnd(c, `drill.local/truststream:${version}`, `probe-${version.replace(/\W/g, '-')}`);
      expect(run.code, run.stderr).toBe(0);
      // Only lo: no host interface, no route out (ctr run without --net-host gets a new, empty namespace).
      expect(JSON.parse(run.stdout)).toEqual({ version, uid: 10001, interfaces: ['lo'] });
    }
    // Negative control: the same node without its libraries cannot start in a container.
    const { source, mode } = await hostFile(process.execPath);
    const bare = await buildLayer(layerSpec('node without libraries', [{ type: 'file', path: '/usr/bin/node', mode, source }]), cacheDir);
    const broken = await writeDockerArchive('broken', [{ tags: ['drill.local/broken:1'], layers: [bare], settings: { env: [PATH_ENV], entrypoint: ['node', '-e', 'console.log(1)'] } }], cacheDir);
    await c.importImages(broken.path);
    const run = await runToEnd(c, 'drill.local/broken:1', 'probe-broken');
    expect(run.code).not.toBe(0);
    expect(run.stdout).toBe('');
    // runc cannot exec node: its loader or libraries are missing ("no such file or directory").
    expect(run.stderr).toMatch(/no such file or directory/);
  });

  it('runs the pause image until SIGTERM, which it answers by exiting 0; SIGUSR1 leaves it running', async () => {
    const c = containerd!;
    const id = 'pause-term';
    const ctr = spawn('ctr', ['--address', c.socket, '--namespace', 'k8s.io', 'run', '--rm', ...c.runFlags(id), PAUSE_IMAGE, id], { stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => ctr.once('exit', (code) => resolve(code)));
    try {
      await waitForTask(c, id, 'RUNNING');
      // A container's PID 1 gets no default action for signals it does not handle.
      await c.ctr(['--namespace', 'k8s.io', 'tasks', 'kill', '--signal', 'SIGUSR1', id]);
      await sleep(1_000);
      await waitForTask(c, id, 'RUNNING');
      await c.ctr(['--namespace', 'k8s.io', 'tasks', 'kill', '--signal', 'SIGTERM', id]);
      expect(await exited).toBe(0);
    } finally {
      if (ctr.exitCode === null) ctr.kill('SIGKILL');
    }
  });

  it('the same input built into another cache imports with the same digests', async () => {
    const c = containerd!;
    const again = await buildServiceImages({ bundle, versions: ['4.4.0', '4.5.0-crashloop'], cacheDir: path.join(tmp, 'cache-again') });
    expect(again.path).not.toBe(service.path);
    const digest = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
    expect(digest(again.path)).toBe(digest(service.path));
    const first = (await c.images()).filter((i) => i.ref.startsWith('drill.local/truststream:'));
    const second = await c.importImages(again.path, { namespace: 'drill-again' });
    expect(second).toEqual(first);
    // Negative control: a changed bundle gives other digests.
    const changed = path.join(tmp, 'changed.mjs');
    writeFileSync(changed, `${readFileSync(bundle, 'utf8')}// changed\n`);
    const other = await buildServiceImages({ bundle: changed, bundleName: 'truststream.mjs', versions: ['4.4.0'], cacheDir: path.join(tmp, 'cache-again') });
    const third = await c.importImages(other.path, { namespace: 'drill-other' });
    expect(third[0]!.ref).toBe('drill.local/truststream:4.4.0');
    expect(third[0]!.digest).not.toBe(first.find((i) => i.ref === 'drill.local/truststream:4.4.0')!.digest);
  });

  it('dispose stops containers, shims and containerd, unmounts and removes everything', async () => {
    const c = containerd!;
    const pid = c.pid!;
    const { socket, cgroup } = await detachedPause(c, 'pause-left');
    // The checks below see what they look for (negative control for "nothing left").
    expect(leftovers(c, pid, cgroup).map((l) => l.split(' ')[0])).toEqual(expect.arrayContaining(['containerd', 'shim', 'dir', 'mount', 'cgroup']));
    expect(existsSync(socket)).toBe(true);

    await c.dispose();
    expect(leftovers(c, pid, cgroup)).toEqual([]);
    expect(existsSync(socket)).toBe(false);
    containerd = undefined;
  });

  it('starts through a command prefix (its own network namespace), without the drill environment', async () => {
    const previous = process.env.DRILL_EVIDENCE_KEY;
    process.env.DRILL_EVIDENCE_KEY = 'not-for-children';
    const c = await PrivateContainerd.start({ ledger, commandPrefix: ['unshare', '--net', '--'] }).finally(() => {
      if (previous === undefined) delete process.env.DRILL_EVIDENCE_KEY;
      else process.env.DRILL_EVIDENCE_KEY = previous;
    });
    try {
      const pid = c.pid!;
      expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0]).toBe('containerd');
      expect(readlinkSync(`/proc/${pid}/ns/net`)).not.toBe(readlinkSync('/proc/self/ns/net'));
      const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean);
      expect(environ.map((e) => e.split('=')[0])).toEqual(['PATH']);
    } finally {
      await c.dispose();
    }
    expect(existsSync(c.layout.dir)).toBe(false);
  });

  it('a containerd that cannot start is an environment error with its log, and leaves nothing', async () => {
    const error = await PrivateContainerd.start({ ledger, commandPrefix: ['sh', '-c', 'echo refusing to start >&2; exit 7', '--'] }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'CONTAINERD_START_FAILED', kind: 'environment' });
    expect((error as Error).message).toContain('refusing to start');
    const dir = /drill-ctd-\w+/.exec(readFileSync(ledgerFile, 'utf8').trim().split('\n').reverse().find((l) => l.includes('"containerd"'))!)![0];
    expect(existsSync(path.join(os.tmpdir(), dir))).toBe(false);
  });

  it('after its owner was killed, the reaper finds containerd, its shims, containers and mounts from the ledger', async () => {
    const ownLedger = path.join(tmp, 'killed-owner.jsonl');
    const c = await PrivateContainerd.start({ ledger: new ResourceLedger(ownLedger) });
    try {
      await c.importImages(pause.path);
      const pid = c.pid!;
      const { socket, cgroup } = await detachedPause(c, 'pause-orphan');
      expect(shimsOf(c.socket)).toHaveLength(1);
      // The owner is gone without disposing: only the ledger is left to go by.
      const reaped = await reapResources(ownLedger);
      expect(reaped).toEqual([`process containerd ${pid}`, expect.stringMatching(new RegExp(`^containerd ${c.layout.dir} \\(\\d+ leftover`))]);
      expect(leftovers(c, pid, cgroup)).toEqual([]);
      expect(existsSync(socket)).toBe(false);
      // Nothing left for a second reaper run.
      expect(await reapResources(ownLedger)).toEqual([]);
    } finally {
      await c.dispose();
    }
  });
});
