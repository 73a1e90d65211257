import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { containerInCgroups, containerProcessesHere, runtimeContainerId } from '../../src/targets/kubernetes/container-processes.js';
import { controllerMount } from '../../src/targets/process/cgroup-v1.js';
import { processStartTime } from '../../src/targets/process/process-identity.js';

const id = () => randomBytes(32).toString('hex');

describe('container processes by runtime ID', () => {
  it('reads the ID out of a pod status, and nothing else', () => {
    const hex = id();
    expect(runtimeContainerId(`containerd://${hex}`)).toBe(hex);
    expect(runtimeContainerId(`containerd://${hex.slice(1)}`)).toBeUndefined();
    expect(runtimeContainerId(hex)).toBeUndefined();
    expect(runtimeContainerId(undefined)).toBeUndefined();
  });

  it('finds a container named as a whole token of a cgroup path below its pod (cgroupfs and systemd drivers), never a part of one or below another pod', () => {
    const [a, b] = [id(), id()];
    const [uidA, uidB] = ['1f0e2c3d-aaaa-4bbb-8ccc-123456789abc', '9a8b7c6d-dddd-4eee-8fff-cba987654321'];
    const wanted = new Map([
      [a, { id: a, podUid: uidA }],
      [b, { id: b, podUid: uidB }],
    ]);
    expect(containerInCgroups(`12:pids:/drill-c1/n0/kubepods/besteffort/pod${uidA}/${a}\n11:memory:/drill-c1/n0/kubepods/besteffort/pod${uidA}/${a}\n`, wanted)).toBe(a);
    expect(containerInCgroups(`0::/system.slice/docker-x.scope/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod${uidB.replaceAll('-', '_')}.slice/cri-containerd-${b}.scope\n`, wanted)).toBe(b);
    // Negative controls: another container, the ID inside a longer token, the ID below another pod
    // (a status naming a container that is not its pod's), no pod at all, a process outside any container.
    expect(containerInCgroups(`12:pids:/kubepods/pod${uidA}/${id()}\n`, wanted)).toBeUndefined();
    expect(containerInCgroups(`12:pids:/kubepods/pod${uidA}/x${a}\n`, wanted)).toBeUndefined();
    expect(containerInCgroups(`12:pids:/kubepods/besteffort/pod${uidB}/${a}\n`, wanted)).toBeUndefined();
    expect(containerInCgroups(`12:pids:/docker/${a}\n`, wanted)).toBeUndefined();
    expect(containerInCgroups('12:pids:/user.slice\n0::/\n', wanted)).toBeUndefined();
  });
});

// A real process in a real cgroup named like a container's: needs root and a writable v1 memory hierarchy.
const memory = controllerMount('memory');
const usable = process.getuid?.() === 0 && memory !== undefined && !memory.readOnly;
const made: string[] = [];
const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  // Removed once the killed process has left it (a cgroup with a task cannot be removed).
  for (let tries = 0; tries < 50 && made.length > 0; tries++) {
    for (const dir of [...made].reverse()) {
      try {
        rmdirSync(dir);
        made.splice(made.indexOf(dir), 1);
      } catch {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
      }
    }
  }
});

describe.skipIf(!usable)('container processes on this machine (root, cgroup v1 memory)', () => {
  it('finds the process in the cgroup named by the ID, with its identity, and no other', async () => {
    const containerId = id();
    const podUid = '0c0ffee0-1111-4222-8333-444455556666';
    const parent = path.join(memory!.mount, `drill-test-container-${randomBytes(4).toString('hex')}`, `pod${podUid}`);
    const dir = path.join(parent, containerId);
    mkdirSync(path.dirname(parent));
    made.push(path.dirname(parent));
    mkdirSync(parent);
    made.push(parent);
    mkdirSync(dir);
    made.push(dir);
    const inside = spawn('sleep', ['60'], { stdio: 'ignore' });
    const outside = spawn('sleep', ['60'], { stdio: 'ignore' });
    children.push(inside, outside);
    writeFileSync(path.join(dir, 'cgroup.procs'), String(inside.pid));
    const found = containerProcessesHere([{ id: containerId, podUid }, { id: id(), podUid }]);
    expect(found).toEqual([{ containerId, pid: inside.pid, startTime: processStartTime(inside.pid!) }]);
    expect(found.some((p) => p.pid === outside.pid)).toBe(false);
    expect(containerProcessesHere([{ id: id(), podUid }])).toEqual([]);
    // The right container below another pod's uid: not it.
    expect(containerProcessesHere([{ id: containerId, podUid: '7e7e7e7e-1111-4222-8333-444455556666' }])).toEqual([]);
    expect(containerProcessesHere([])).toEqual([]);
  });
});
