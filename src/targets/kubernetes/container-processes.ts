import { readdirSync, readFileSync } from 'node:fs';
import { processStartTime } from '../process/process-identity.js';

/** A process of this machine that belongs to a container, by the container's runtime ID. */
export interface ContainerProcess {
  containerId: string;
  pid: number;
  /** As process-identity.ts records it, so a reused pid is never taken for this process. */
  startTime: string;
}

/** `containerd://<id>` (a pod's containerStatuses[].containerID) → `<id>`; undefined for anything else. */
export function runtimeContainerId(containerId: string | undefined): string | undefined {
  const match = /^[a-z0-9-]+:\/\/([0-9a-f]{64})$/.exec(containerId ?? '');
  return match?.[1];
}

/**
 * Which of `ids` a /proc/<pid>/cgroup text names. The runtime puts each container in a cgroup named
 * by its 64-hex ID, whatever the driver: cgroupfs `/…/pod<uid>/<id>`, systemd
 * `/…/cri-containerd-<id>.scope` (kind's nodes). An ID is 256 random bits, so a cgroup path that
 * names one as a whole token is that container's and no one else's.
 */
export function containerIdInCgroups(cgroupText: string, ids: ReadonlySet<string>): string | undefined {
  for (const line of cgroupText.split('\n')) {
    const cgroupPath = line.slice(line.indexOf(':', line.indexOf(':') + 1) + 1);
    for (const token of cgroupPath.split(/[/.-]/)) if (token.length === 64 && ids.has(token)) return token;
  }
  return undefined;
}

/**
 * The processes on this machine (in any pid namespace below ours, by the pid we see) whose cgroup
 * names one of `ids`: the containers of pods on nodes that run here (real nodes, kind's node
 * containers). A pod on another machine has none. Processes that exit while /proc is read are
 * skipped.
 */
export function containerProcessesHere(ids: readonly string[]): ContainerProcess[] {
  const wanted = new Set(ids);
  if (wanted.size === 0) return [];
  const found: ContainerProcess[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let text: string;
    try {
      text = readFileSync(`/proc/${entry}/cgroup`, 'utf8');
    } catch {
      continue;
    }
    const containerId = containerIdInCgroups(text, wanted);
    if (containerId === undefined) continue;
    const pid = Number(entry);
    const startTime = processStartTime(pid);
    if (startTime !== undefined) found.push({ containerId, pid, startTime });
  }
  return found.sort((a, b) => a.pid - b.pid);
}
