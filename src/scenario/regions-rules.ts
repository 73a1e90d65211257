import type { PathIssue } from './issues.js';
import { isRecord } from './schema-walk.js';

/**
 * Cross-key rules of the region vocabulary (see rules.ts for why they are not zod refinements):
 * where targets.regions may be, and that the region a fault or a step names is one of its two.
 */
export function regionsIssues(data: unknown): PathIssue[] {
  if (!isRecord(data)) return [];
  if (!isRecord(data.targets) || !isRecord(data.targets.regions)) return regionStepsWithoutRegions(data);
  const targets = data.targets;
  const regions = data.targets.regions;
  const issues: PathIssue[] = [];
  if (!isRecord(targets.postgres)) {
    issues.push({ path: ['targets', 'regions'], anchor: 'key', message: "each region runs its own PostgreSQL (the primary and its streaming replica): add targets.postgres (e.g. postgres: {provider: native, replicas: 1})" });
  } else {
    const { postgres } = targets;
    if (postgres.replicas !== 1) {
      issues.push({
        path: postgres.replicas === undefined ? ['targets', 'postgres'] : ['targets', 'postgres', 'replicas'],
        anchor: postgres.replicas === undefined ? 'key' : 'value',
        message: 'with targets.regions the primary lives in the primary region and one streaming replica in the DR region: set targets.postgres.replicas: 1',
      });
    }
    if (postgres.provider !== undefined && postgres.provider !== 'native' && postgres.provider !== 'auto') {
      issues.push({ path: ['targets', 'postgres', 'provider'], anchor: 'value', message: "only the native provider can put PostgreSQL on the regions' loopback ranges: set provider: native (or auto)" });
    }
  }
  for (const other of ['service', 'kubernetes'] as const) {
    if (isRecord(targets[other])) {
      issues.push({ path: ['targets', 'regions'], anchor: 'key', message: `targets.regions runs the service in each region itself; remove targets.${other} (or targets.regions)` });
    }
  }
  const nameOf = (role: 'primary' | 'dr', fallback: string) => {
    const region = regions[role];
    return isRecord(region) && typeof region.name === 'string' ? region.name : fallback;
  };
  const known = ['primary', 'dr', nameOf('primary', 'us-west-2'), nameOf('dr', 'us-east-1')];
  const check = (list: unknown, key: string, field: string, variant: string) => {
    if (!Array.isArray(list)) return;
    list.forEach((item, i) => {
      if (!isRecord(item) || item[key] !== variant || typeof item[field] !== 'string' || known.includes(item[field])) return;
      issues.push({ path: [key === 'type' ? 'faults' : 'recovery', i, field], anchor: 'value', message: `no region ${item[field]}: name one of ${known.join(', ')}` });
    });
  };
  check(data.faults, 'type', 'region', 'region-outage');
  check(data.recovery, 'step', 'to', 'dns-failover');
  check(data.recovery, 'step', 'region', 'promote-replica');
  check(data.recovery, 'step', 'primaryRegion', 'activate-dr-site');
  check(data.recovery, 'step', 'drRegion', 'activate-dr-site');
  check(data.recovery, 'step', 'drRegion', 'verify-dr');
  check(data.recovery, 'step', 'primaryRegion', 'failback');
  check(data.recovery, 'step', 'drRegion', 'failback');
  issues.push(...failbackIssues(data.recovery, data.faults));
  issues.push(...failoverRoutingIssues(data.recovery, isRecord(regions.dns) && isRecord(regions.dns.failover)));
  if (Array.isArray(data.recovery)) {
    // primary/dr and the regions' names are two spellings of the same two regions.
    const roleOf = (ref: unknown, fallback: 'primary' | 'dr') => {
      const r = typeof ref === 'string' ? ref : fallback;
      return r === 'primary' || r === nameOf('primary', 'us-west-2') ? 'primary' : r === 'dr' || r === nameOf('dr', 'us-east-1') ? 'dr' : r;
    };
    data.recovery.forEach((item, i) => {
      if (isRecord(item) && (item.step === 'activate-dr-site' || item.step === 'failback') && roleOf(item.primaryRegion, 'primary') === roleOf(item.drRegion, 'dr')) {
        issues.push({ path: ['recovery', i, 'drRegion'], anchor: item.drRegion === undefined ? 'key' : 'value', message: `${String(item.step)} names one region as both the lost primary and the DR region: name the other region as drRegion` });
      }
    });
  }
  if (Array.isArray(data.recovery)) {
    data.recovery.forEach((item, i) => {
      if (isRecord(item) && item.step === 'promote-replica' && item.region !== undefined && item.replica !== undefined) {
        issues.push({ path: ['recovery', i, 'replica'], anchor: 'key', message: 'promote-replica names a region and a replica: keep one of them' });
      }
    });
  }
  return issues;
}

/**
 * failback brings the lost region's service back on the region's own addresses: nothing of the
 * region may still hold them, so a blackhole outage (its processes frozen, not gone) cannot be
 * failed back from, nor one whose addresses a drop table keeps unreachable.
 */
function failbackIssues(recovery: unknown, faults: unknown): PathIssue[] {
  if (!Array.isArray(recovery) || !Array.isArray(faults)) return [];
  const failback = recovery.findIndex((item) => isRecord(item) && item.step === 'failback');
  if (failback < 0) return [];
  return faults.flatMap((fault, i): PathIssue[] => {
    if (!isRecord(fault) || fault.type !== 'region-outage') return [];
    if (fault.mode === 'blackhole') {
      return [{ path: ['faults', i, 'mode'], anchor: 'value', message: `failback (recovery[${failback}]) restarts the lost region's processes on their own addresses, which the frozen processes of a blackhole outage still hold: use mode: kill, or leave out failback` }];
    }
    // The drop table stays until teardown: the restarted region would be unreachable to everyone.
    if (fault.network === 'drop') {
      return [{ path: ['faults', i, 'network'], anchor: 'value', message: `failback (recovery[${failback}]) brings the lost region back, and network: drop keeps its addresses unreachable until teardown: leave out network: drop, or leave out failback` }];
    }
    return [];
  });
}

/**
 * Failover routing and the steps that move DNS: with it the health checks flip the answer, so an
 * UPSERT (dns-failover) would fight the failover record sets (Route 53 refuses a simple record
 * beside them); without it, activate-dr-site's automaticFailover has nothing to wait for.
 */
function failoverRoutingIssues(recovery: unknown, failover: boolean): PathIssue[] {
  if (!Array.isArray(recovery)) return [];
  return recovery.flatMap((item, i): PathIssue[] => {
    if (!isRecord(item)) return [];
    if (failover && item.step === 'failback') {
      return [{ path: ['recovery', i, 'step'], anchor: 'value', message: 'failback moves the record back by UPSERT (simple routing); with targets.regions.dns.failover the health checks own the answer: remove dns.failover, or leave out failback' }];
    }
    if (failover && item.step === 'dns-failover') {
      return [{ path: ['recovery', i, 'step'], anchor: 'value', message: 'targets.regions.dns.failover routes by health checks: the DNS answer flips without an UPSERT; remove this dns-failover step (or dns.failover to fail over by UPSERT)' }];
    }
    if (!failover && item.step === 'activate-dr-site' && item.automaticFailover === true) {
      return [{ path: ['recovery', i, 'automaticFailover'], anchor: 'value', message: 'automaticFailover: true needs failover routing: add targets.regions.dns.failover (e.g. failover: {requestInterval: 1, failureThreshold: 3}), or set automaticFailover: false and add a dns-failover step' }];
    }
    return [];
  });
}

/** A promote-replica addressed to a region in a scenario without targets.regions. */
function regionStepsWithoutRegions(data: Record<string, unknown>): PathIssue[] {
  if (!Array.isArray(data.recovery)) return [];
  return data.recovery.flatMap((item, i) =>
    isRecord(item) && item.step === 'promote-replica' && item.region !== undefined
      ? [{ path: ['recovery', i, 'region'], anchor: 'key' as const, message: 'promote-replica names a region, but the scenario has no targets.regions; name a replica (replica: replica-1) or add targets.regions' }]
      : [],
  );
}
