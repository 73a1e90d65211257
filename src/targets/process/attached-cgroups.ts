import type { LimitCgroup } from './limit-cgroup.js';

/** The drill cgroups a server's starts join (the `ServerCgroups` capability of a native instance). */
export class AttachedCgroups {
  private readonly list: LimitCgroup[] = [];

  get attached(): readonly LimitCgroup[] {
    return this.list;
  }

  attach(cgroup: LimitCgroup): void {
    if (!this.list.includes(cgroup)) this.list.push(cgroup);
  }

  detach(cgroup: LimitCgroup): void {
    const i = this.list.indexOf(cgroup);
    if (i >= 0) this.list.splice(i, 1);
  }
}

/**
 * Lifts a limit: detached from the server (later starts run unlimited), every process inside moved
 * back to where it came from, the cgroup removed. Returns the pids moved back.
 */
export function liftLimit(server: { readonly resourceLimits?: { detach(cgroup: LimitCgroup): void } }, cgroup: LimitCgroup): Promise<number[]> {
  server.resourceLimits?.detach(cgroup);
  return cgroup.release();
}

/**
 * The command line that runs `file args` inside `cgroups`: a shell writes its own pid to each
 * cgroup.procs (as cgexec does; the files belong to the user it runs as), then becomes the program.
 * A cgroup that cannot be joined stops it (exit 97) rather than start the server unlimited.
 */
export function joinCgroupsThen(cgroups: readonly LimitCgroup[], file: string, args: string[]): [string, string[]] {
  const script = 'while [ "$1" != -- ]; do echo $$ > "$1" || exit 97; shift; done; shift; exec "$@"';
  return ['/bin/sh', ['-c', script, 'drill-join-cgroups', ...cgroups.map((c) => c.procsFile), '--', file, ...args]];
}
