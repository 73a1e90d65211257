import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { containerIdInCgroups, containerProcessesHere, runtimeContainerId } from '../../src/targets/kubernetes/container-processes.js';
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

  it('finds an ID named as a whole token of a cgroup path (cgroupfs and systemd drivers), never a part of one', () => {
    const [a, b] = [id(), id()];
    const wanted = new Set([a, b]);
    expect(containerIdInCgroups(`12:pids:/drill-c1/n0/kubepods/besteffort/pod1234/${a}\n11:memory:/drill-c1/n0/kubepods/besteffort/pod1234/${a}\n`, wanted)).toBe(a);
    expect(containerIdInCgroups(`0::/system.slice/docker-x.scope/kubelet.slice/kubelet-kubepods.slice/cri-containerd-${b}.scope\n`, wanted)).toBe(b);
    // Negative controls: another container, the ID inside a longer token, a process outside any container.
    expect(containerIdInCgroups(`12:pids:/kubepods/pod1/${id()}\n`, wanted)).toBeUndefined();
    expect(containerIdInCgroups(`12:pids:/kubepods/pod1/x${a}\n`, wanted)).toBeUndefined();
    expect(containerIdInCgroups('12:pids:/user.slice\n0::/\n', wanted)).toBeUndefined();
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
    const parent = path.join(memory!.mount, `drill-test-container-${randomBytes(4).toString('hex')}`);
    const dir = path.join(parent, containerId);
    mkdirSync(parent);
    made.push(parent);
    mkdirSync(dir);
    made.push(dir);
    const inside = spawn('sleep', ['60'], { stdio: 'ignore' });
    const outside = spawn('sleep', ['60'], { stdio: 'ignore' });
    children.push(inside, outside);
    writeFileSync(path.join(dir, 'cgroup.procs'), String(inside.pid));
    const found = containerProcessesHere([containerId, id()]);
    expect(found).toEqual([{ containerId, pid: inside.pid, startTime: processStartTime(inside.pid!) }]);
    expect(found.some((p) => p.pid === outside.pid)).toBe(false);
    expect(containerProcessesHere([id()])).toEqual([]);
    expect(containerProcessesHere([])).toEqual([]);
  });
});
