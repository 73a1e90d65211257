import { accessSync, constants, readFileSync } from 'node:fs';
import path from 'node:path';
import { EnvironmentError } from '../../engine/errors.js';

/** The cgroup v1 controllers a resource fault limits. */
export type LimitController = 'cpu' | 'memory';

/**
 * Where a v1 controller's hierarchy is mounted, from /proc/self/mountinfo: a `cgroup` file system
 * whose super options name the controller (`rw,cpu` or `rw,cpu,cpuacct`); undefined when none is,
 * and `readOnly` when it is mounted read-only (a container's usual /sys/fs/cgroup).
 */
export function controllerMount(controller: LimitController, mountinfo = readFileSync('/proc/self/mountinfo', 'utf8')): { mount: string; readOnly: boolean } | undefined {
  for (const line of mountinfo.split('\n')) {
    const [left, right] = line.split(' - ');
    if (!left || !right) continue;
    const [fsType, , superOptions = ''] = right.split(' ');
    if (fsType !== 'cgroup' || !superOptions.split(',').includes(controller)) continue;
    const fields = left.split(' ');
    return { mount: fields[4]!, readOnly: fields[5]!.split(',').includes('ro') || superOptions.split(',').includes('ro') };
  }
  return undefined;
}

/**
 * The cgroup (path inside the hierarchy, `/` for the root) a process is in for `controller`, from
 * /proc/<pid>/cgroup (`4:memory:/a/b`, or `3:cpu,cpuacct:/`); undefined when it is gone.
 */
export function cgroupOf(pid: number, controller: LimitController): string | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const [, controllers, where] = line.split(':');
    if (controllers !== undefined && where !== undefined && controllers.split(',').includes(controller)) return where;
  }
  return undefined;
}

/**
 * What a resource fault needs of this machine: the controller's v1 hierarchy mounted writable, and
 * root (moving another user's processes). Exit 3 with what to enable otherwise. cgroup v2 (one
 * unified hierarchy, cpu.max and memory.max) is not supported: the message says what it would need.
 */
export function requireWritableController(controller: LimitController, what: string, mountinfo?: string): string {
  const found = controllerMount(controller, mountinfo);
  if (!found) {
    throw new EnvironmentError(
      'CGROUP_V1_MISSING',
      `${what} limits the database through the cgroup v1 ${controller} controller, and no cgroup v1 hierarchy with it is mounted here ` +
        `(mount -t cgroup -o ${controller} cgroup /sys/fs/cgroup/${controller}). A cgroup v2-only machine (one unified hierarchy) is not supported: ` +
        `it would need ${controller === 'cpu' ? 'cpu.max' : 'memory.max'} and the ${controller} controller enabled in the parent's cgroup.subtree_control; run the drill on a cgroup v1 host`,
    );
  }
  if (found.readOnly || process.getuid?.() !== 0) {
    throw new EnvironmentError(
      'CGROUP_NOT_WRITABLE',
      `${what} creates a cgroup in ${found.mount} and moves the database's processes into it, which needs root and that hierarchy mounted read-write ` +
        `(it is ${found.readOnly ? 'read-only' : 'writable, but the drill does not run as root'}); run the drill as root on the host, or in a container with the cgroup hierarchy mounted rw`,
    );
  }
  try {
    accessSync(path.join(found.mount, 'cgroup.procs'), constants.W_OK);
  } catch (error) {
    throw new EnvironmentError('CGROUP_NOT_WRITABLE', `${what}: ${found.mount}/cgroup.procs is not writable (${(error as Error).message}); run the drill as root with the cgroup v1 ${controller} hierarchy mounted rw`);
  }
  return found.mount;
}

/** Which controller each resource fault limits. */
const FAULT_CONTROLLERS: Record<string, LimitController> = { 'cpu-stress': 'cpu', 'memory-stress': 'memory' };

/**
 * The machine check of the scenario's resource faults, before anything is provisioned: a drill that
 * cannot limit the server stops with exit 3 rather than after its baseline.
 */
export function requireFaultControllers(faults: ReadonlyArray<{ type: string }>, mountinfo?: string): void {
  for (const fault of faults) {
    const controller = FAULT_CONTROLLERS[fault.type];
    if (controller) requireWritableController(controller, fault.type, mountinfo);
  }
}
