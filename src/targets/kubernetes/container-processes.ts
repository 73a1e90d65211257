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

/** A container as a pod's status names it: its runtime ID and the pod's uid. */
export interface PodContainer {
  id: string;
  podUid: string;
}

/**
 * Which of `containers` a /proc/<pid>/cgroup text names. The runtime puts each container in a
 * cgroup named by its 64-hex ID below its pod's, whatever the driver: cgroupfs
 * `/…/pod<uid>/<id>`, systemd `/…/kubepods-…-pod<uid with _>.slice/cri-containerd-<id>.scope`
 * (kind's nodes). An ID is 256 random bits; the pod's uid on the same line as well means a status
 * that names another pod's container (or a machine's docker container) is never taken for it.
 */
export function containerInCgroups(cgroupText: string, containers: ReadonlyMap<string, PodContainer>): string | undefined {
  for (const line of cgroupText.split('\n')) {
    const cgroupPath = line.slice(line.indexOf(':', line.indexOf(':') + 1) + 1);
    for (const token of cgroupPath.split(/[/.-]/)) {
      const container = token.length === 64 ? containers.get(token) : undefined;
      if (container && podUidIn(cgroupPath, container.podUid)) return container.id;
    }
  }
  return undefined;
}

function podUidIn(cgroupPath: string, uid: string): boolean {
  return cgroupPath.split('/').some((part) => part === `pod${uid}` || part.endsWith(`-pod${uid.replaceAll('-', '_')}.slice`));
}

/**
 * The processes on this machine (in any pid namespace below ours, by the pid we see) whose cgroup
 * names one of `containers`: the containers of pods on nodes that run here (real nodes, kind's
 * node containers). A pod on another machine has none. Processes that exit while /proc is read are
 * skipped.
 */
export function containerProcessesHere(containers: readonly PodContainer[]): ContainerProcess[] {
  const wanted = new Map(containers.map((c) => [c.id, c]));
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
    const containerId = containerInCgroups(text, wanted);
    if (containerId === undefined) continue;
    const pid = Number(entry);
    const startTime = processStartTime(pid);
    if (startTime !== undefined) found.push({ containerId, pid, startTime });
  }
  return found.sort((a, b) => a.pid - b.pid);
}
