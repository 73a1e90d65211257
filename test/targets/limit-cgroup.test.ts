import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { reapRecorded } from '../../src/engine/reaper.js';
import { readResources, ResourceLedger } from '../../src/engine/resource-ledger.js';
import { cgroupOf, controllerMount, requireFaultControllers, requireWritableController } from '../../src/targets/process/cgroup-v1.js';
import { LimitCgroup } from '../../src/targets/process/limit-cgroup.js';
import { AttachedCgroups, joinCgroupsThen, liftLimit } from '../../src/targets/process/attached-cgroups.js';

const V1 = [
  '30 25 0:26 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755',
  '31 30 0:27 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:10 - cgroup cgroup rw,cpu,cpuacct',
  '32 30 0:28 / /sys/fs/cgroup/memory ro,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,memory',
  '33 30 0:29 / /sys/fs/cgroup/cpuset rw,nosuid,nodev,noexec,relatime shared:12 - cgroup cgroup rw,cpuset',
].join('\n');
const V2_ONLY = '29 25 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate';

describe('cgroup v1 discovery', () => {
  it('finds a controller in a combined hierarchy, by its super options (cpuset is not cpu), and says when it is read-only', () => {
    expect(controllerMount('cpu', V1)).toEqual({ mount: '/sys/fs/cgroup/cpu,cpuacct', readOnly: false });
    expect(controllerMount('memory', V1)).toEqual({ mount: '/sys/fs/cgroup/memory', readOnly: true });
    expect(controllerMount('memory', V2_ONLY)).toBeUndefined();
  });

  it('exit 3 on a cgroup v2-only machine, saying what v2 would need; on a read-only hierarchy, saying to mount it rw', () => {
    expect(() => requireWritableController('memory', 'memory-stress', V2_ONLY)).toThrow(
      expect.objectContaining({ code: 'CGROUP_V1_MISSING', kind: 'environment', message: expect.stringMatching(/no cgroup v1 hierarchy with it is mounted.*cgroup v2-only machine .* is not supported: it would need memory\.max/) }),
    );
    expect(() => requireWritableController('cpu', 'cpu-stress', V2_ONLY)).toThrow(expect.objectContaining({ message: expect.stringMatching(/cpu\.max/) }));
    expect(() => requireWritableController('memory', 'memory-stress', V1)).toThrow(expect.objectContaining({ code: 'CGROUP_NOT_WRITABLE', kind: 'environment', message: expect.stringMatching(/read-only/) }));
    // Checked before provisioning, for the faults that need it only.
    expect(() => requireFaultControllers([{ type: 'pg-primary-crash' }, { type: 'memory-stress' }], V2_ONLY)).toThrow(expect.objectContaining({ code: 'CGROUP_V1_MISSING', message: expect.stringMatching(/^memory-stress limits/) }));
    expect(() => requireFaultControllers([{ type: 'pg-primary-crash' }, { type: 'disk-full' }], V2_ONLY)).not.toThrow();
  });
});

// Real cgroups of this machine: creating one and moving a process needs root and cgroup v1.
const usable = process.getuid?.() === 0 && controllerMount('memory') !== undefined && !controllerMount('memory')!.readOnly;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'drill-limit-cgroup-test-'));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
});

function sleeper(): number {
  const child = spawn('sleep', ['300'], { stdio: 'ignore' });
  children.push(child);
  return child.pid!;
}

describe.skipIf(!usable)(`a drill cgroup (real cgroup v1)${usable ? '' : ' (skipped: needs root and a writable cgroup v1 memory hierarchy)'}`, () => {
  const mount = () => controllerMount('memory')!.mount;

  it('is recorded before it exists, limits what is moved in, and is lifted: processes back to their origin, directories gone', async () => {
    const pid = sleeper();
    const origin = cgroupOf(pid, 'memory')!;
    const ledgerFile = path.join(tmp, 'lift.jsonl');
    const cgroup = LimitCgroup.create({ controller: 'memory', mount: mount(), origin, runId: 'test-run-lift', name: 'postgres-primary', ledger: new ResourceLedger(ledgerFile) });
    expect(readResources(ledgerFile)).toEqual([{ kind: 'limit-cgroup', controller: 'memory', mount: mount(), origin, path: path.posix.join(origin, 'drill', 'test-run-lift', 'postgres-primary'), runId: 'test-run-lift' }]);
    cgroup.write('memory.limit_in_bytes', 32 * 1024 * 1024);
    expect(() => cgroup.write('memory.limit_in_bytes', 'lots')).toThrow(expect.objectContaining({ code: 'CGROUP_WRITE_REFUSED', kind: 'environment', message: expect.stringMatching(/the kernel refused lots for memory\.limit_in_bytes/) }));
    expect(cgroup.adopt([pid])).toEqual([pid]);
    expect(cgroupOf(pid, 'memory')).toBe(cgroup.record.path);
    expect(cgroup.memoryCounters()).toMatchObject({ limitBytes: 32 * 1024 * 1024, failcnt: 0 });

    const server = new AttachedCgroups();
    server.attach(cgroup);
    expect(await liftLimit({ resourceLimits: server }, cgroup)).toEqual([pid]);
    expect(server.attached).toEqual([]);
    expect(cgroupOf(pid, 'memory')).toBe(origin);
    expect(existsSync(cgroup.dir)).toBe(false);
    expect(existsSync(path.join(mount(), origin, 'drill', 'test-run-lift'))).toBe(false);
  });

  it('a start joins the attached cgroups before the program runs (as the server\'s restart does)', async () => {
    const cgroup = LimitCgroup.create({ controller: 'memory', mount: mount(), origin: cgroupOf(process.pid, 'memory')!, runId: 'test-run-join', name: 'p', ledger: new ResourceLedger(path.join(tmp, 'join.jsonl')) });
    try {
      const [file, args] = joinCgroupsThen([cgroup], '/bin/cat', ['/proc/self/cgroup']);
      const out = await new Promise<string>((resolve) => {
        const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'inherit'] });
        let text = '';
        child.stdout.on('data', (d: Buffer) => (text += d.toString()));
        child.on('close', () => resolve(text));
      });
      expect(out).toContain(`memory:${cgroup.record.path}\n`);
    } finally {
      await cgroup.release();
    }
  });

  it('after a kill -9 of the drill the reaper moves what is still inside back and removes it; a cgroup not at <origin>/drill/<run>/ is left alone', async () => {
    const pid = sleeper();
    const origin = cgroupOf(pid, 'memory')!;
    const ledgerFile = path.join(tmp, 'reap.jsonl');
    const cgroup = LimitCgroup.create({ controller: 'memory', mount: mount(), origin, runId: 'test-run-reap', name: 'postgres-primary', ledger: new ResourceLedger(ledgerFile) });
    cgroup.adopt([pid]);
    // Negative control: nothing else takes it away.
    expect(existsSync(cgroup.dir)).toBe(true);
    expect(readFileSync(cgroup.procsFile, 'utf8').trim()).toBe(String(pid));

    // A hand-edited entry pointing at the process's own cgroup: never emptied.
    const foreign = { kind: 'limit-cgroup' as const, controller: 'memory' as const, mount: mount(), origin: path.posix.dirname(cgroup.record.path), path: cgroup.record.path, runId: 'test-run-reap' };
    const refused = await reapRecorded([foreign]);
    expect(refused.left).toEqual([{ what: `memory cgroup ${cgroup.record.path}`, reason: expect.stringMatching(/not a drill cgroup/) }]);
    expect(cgroupOf(pid, 'memory')).toBe(cgroup.record.path);

    const report = await reapRecorded(readResources(ledgerFile));
    expect(report).toEqual({ removed: [`memory cgroup ${cgroup.record.path} (1 processes moved back to ${origin})`], left: [] });
    expect(cgroupOf(pid, 'memory')).toBe(origin);
    expect(existsSync(cgroup.dir)).toBe(false);
    // Reaping again finds nothing.
    expect(await reapRecorded(readResources(ledgerFile))).toEqual({ removed: [], left: [] });
  });
});
