import type { Scenario } from '../../src/scenario/schema.js';
import { TOXIPROXY_GO_MINIMUM } from '../../src/targets/network-proxy/toxiproxy-binary.js';

/**
 * What a drill needs of the machine that runs it, beyond Node and PostgreSQL's binaries, as the
 * scenario implies it (targets.*), and whether a CI file provides it. Each rule points at the code
 * that refuses the drill (exit 3) when the machine lacks it:
 *
 * - root: a size-limited WAL or data volume is a tmpfs mount (`walVolume`, `dataVolume`: src/targets/process/tmpfs-volume.ts,
 *   MOUNT_NEEDS_ROOT); a local control plane with real nodes (src/targets/network/drill-network.ts); a
 *   packet fault's nftables table (network-loss, network-partition, region-outage with network: drop:
 *   src/targets/network-nft/nft.ts,
 *   NFTABLES_NOT_ROOT; npm run setup installs nftables when it runs as root).
 * - toxiproxy: `targets.network` runs Toxiproxy, which `npm run setup` builds with Go
 *   (src/targets/network-proxy/toxiproxy-binary.ts, TOXIPROXY_MISSING; Go TOXIPROXY_GO_MINIMUM+).
 * - moto: `targets.regions` runs moto from the virtualenv `npm run setup` makes.
 * - kind: `targets.kubernetes` with provider auto (on a CI runner with Docker) or kind runs kind.
 * - control-plane: provider local builds the control plane (`npm run setup:all`, Go 1.26+).
 * - cgroup-v1: the resource faults' drill cgroups (CGROUP_V1_MISSING); no hosted runner has it.
 * - nftables: the packet faults' `nft` (NFTABLES_MISSING); `npm run setup` installs it as root.
 * - libfaketime: a `clock-skew` fault preloads it into the service (src/targets/process/libfaketime.ts,
 *   LIBFAKETIME_MISSING); `npm run setup` installs the faketime package when it runs as root.
 *
 * A need is met only when setup ran as the same user as the gate: the builds go to that user's
 * drill cache (~/.cache/drill, or HOME as sudo -E keeps it).
 */
export type MachineNeed = 'root' | 'toxiproxy' | 'moto' | 'kind' | 'control-plane' | 'libfaketime' | 'nftables' | 'cgroup-v1';

export function machineNeeds(scenario: Scenario): MachineNeed[] {
  const t = scenario.targets;
  const needs = new Set<MachineNeed>();
  if (t.postgres?.walVolume || t.postgres?.dataVolume || t.postgres?.dataPassthrough) needs.add('root');
  if (scenario.faults.some((f) => f.type === 'network-loss' || f.type === 'network-partition' || (f.type === 'region-outage' && f.network === 'drop'))) {
    needs.add('root');
    needs.add('nftables');
  }
  if (t.network) needs.add('toxiproxy');
  if (t.regions) needs.add('moto');
  if (scenario.faults.some((f) => f.type === 'clock-skew')) needs.add('libfaketime');
  if (scenario.faults.some((f) => f.type === 'cpu-stress' || f.type === 'memory-stress')) {
    needs.add('root');
    needs.add('cgroup-v1');
  }
  const k8s = t.kubernetes;
  if (k8s && (k8s.provider === 'auto' || k8s.provider === 'kind')) needs.add('kind');
  if (k8s?.provider === 'local') {
    needs.add('control-plane');
    if (k8s.nodes.real > 0) needs.add('root');
  }
  return [...needs];
}

/** What a CI job gives the gate, read from its commands. */
export interface CiProvides {
  /** The gate command runs as root (sudo, or a job that is root). */
  gateAsRoot: boolean;
  /** `npm run setup` (or setup:all) runs before the gate, and as the same user. */
  setup: 'none' | 'other-user' | 'same-user';
  setupAll: boolean;
  /** The Go installed before setup (`actions/setup-go`, a go.dev/dl download), if any. */
  goVersion: string | undefined;
  /** kind installed before the gate. */
  kind: boolean;
}

/** Each need of each scenario the job does not provide, as "scenario: what is missing". */
export function unmetMachineNeeds(scenarios: ReadonlyArray<{ name: string; needs: readonly MachineNeed[] }>, provides: CiProvides): string[] {
  const problems: string[] = [];
  const setupRan = provides.setup === 'same-user';
  const setupWhy = provides.setup === 'other-user' ? 'npm run setup runs as another user than the gate (its builds land in that user\'s drill cache)' : 'npm run setup does not run before the gate';
  for (const { name, needs } of scenarios) {
    for (const need of needs) {
      const missing = {
        root: provides.gateAsRoot ? undefined : 'root (a tmpfs mount, real nodes or an nftables table; MOUNT_NEEDS_ROOT, NFTABLES_NOT_ROOT): run the gate with sudo -E env "PATH=$PATH"',
        toxiproxy: !setupRan
          ? `Toxiproxy: ${setupWhy}`
          : !provides.goVersion
            ? `Toxiproxy: no Go is installed before npm run setup builds it (Go ${TOXIPROXY_GO_MINIMUM}+)`
            : !goAtLeast(provides.goVersion, TOXIPROXY_GO_MINIMUM)
              ? `Toxiproxy: Go ${provides.goVersion} is older than the ${TOXIPROXY_GO_MINIMUM} its module asks for`
              : undefined,
        moto: setupRan ? undefined : `moto: ${setupWhy}`,
        kind: provides.kind ? undefined : 'kind: not installed before the gate',
        'control-plane': provides.setupAll && setupRan ? undefined : 'the local control plane: npm run setup:all does not run before the gate',
        libfaketime: !setupRan
          ? `libfaketime: ${setupWhy}`
          : provides.gateAsRoot
            ? undefined
            : 'libfaketime: npm run setup installs the faketime package only as root (sudo -E npm run setup)',
        // Hosted runners (GitHub ubuntu-24.04, GitLab SaaS) are cgroup v2 only: these drills need a runner of your own.
        'cgroup-v1': 'cgroup v1 (cpu-stress, memory-stress: CGROUP_V1_MISSING): hosted runners have cgroup v2 only; exclude them (--exclude-tag cgroup-v1) or use a cgroup v1 runner of your own',
        nftables: !setupRan
          ? `nftables: ${setupWhy}`
          : provides.gateAsRoot
            ? undefined
            : 'nftables: npm run setup installs the nftables package only as root (sudo -E npm run setup)',
      }[need];
      if (missing) problems.push(`${name}: ${missing}`);
    }
  }
  return problems;
}

/** `1.23` ≤ `1.23.4`, `1.24`; `1.23.x` and `^1.23` count as 1.23. */
export function goAtLeast(version: string, minimum: string): boolean {
  const parts = (v: string) => (v.match(/\d+/g) ?? []).map(Number);
  const [a, b] = [parts(version), parts(minimum)];
  for (let i = 0; i < b.length; i++) {
    if ((a[i] ?? 0) !== b[i]) return (a[i] ?? 0) > b[i]!;
  }
  return true;
}
