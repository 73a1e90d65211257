import createDebug from 'debug';
import type { ZoneSource } from './dns-server.js';
import { HealthChecker, type HealthTransition } from './health-checker.js';
import type { ARecordSet, Route53Failover } from './route53-failover.js';
import { absoluteName, type ARecord } from './route53-zone.js';
import { RecordSetCache, REFRESH_MS } from './record-set-cache.js';

const debug = createDebug('drill:dns');

/** A health transition with the instant it was decided on the caller's clock. */
export type TimedTransition = HealthTransition & { t: number };

/**
 * Route 53's failover routing answer among a name's A record sets: the PRIMARY while its health
 * check is healthy (a set without a check counts as healthy), else the SECONDARY when it is
 * healthy; when both are unhealthy Route 53 answers the PRIMARY. A name with a simple record set
 * answers it. Undefined when the name has no A record set.
 */
export function chooseAnswer(sets: readonly ARecordSet[], healthy: (healthCheckId: string) => boolean): ARecordSet | undefined {
  const simple = sets.find((s) => !s.failover);
  if (simple) return simple;
  const primary = sets.find((s) => s.failover === 'PRIMARY');
  const secondary = sets.find((s) => s.failover === 'SECONDARY');
  const up = (s: ARecordSet | undefined) => s !== undefined && (s.healthCheckId === undefined || healthy(s.healthCheckId));
  if (up(primary)) return primary;
  if (up(secondary)) return secondary;
  return primary ?? secondary;
}

/**
 * What the drill's DNS server answers from: the hosted zone through the Route 53 API, with
 * failover record sets decided by the drill's own health checkers. A checker starts the first
 * time a record set names its health check (its configuration read back from the API), and runs
 * until stop(); its configuration is read once (one GetHealthCheck per check, not per query).
 * Record sets come from a short-lived cache (API rate limits), invalidated by the drill's own changes. Every status change is passed to `onTransition` (journaled by the caller) and kept.
 */
export class FailoverZone implements ZoneSource {
  private readonly checkers = new Map<string, Promise<HealthChecker>>();
  /** Every status change so far, with `t` on the caller's clock (the run clock). */
  readonly transitions: TimedTransition[] = [];
  private stopped = false;
  /** The record sets as last listed: at most one ListResourceRecordSets per name per refresh (record-set-cache.ts). */
  readonly cache: RecordSetCache<ARecordSet[]>;

  constructor(
    private readonly zone: { readonly name: string; contains(name: string): boolean },
    private readonly api: Route53Failover,
    private readonly onTransition: (transition: TimedTransition) => void = () => {},
    private readonly now: () => number = () => performance.now(),
    refreshMs = REFRESH_MS,
  ) {
    this.cache = new RecordSetCache((name) => this.api.aRecordSets(name), refreshMs);
  }

  /** The drill changed a record: the next query reads the API again. */
  invalidate(): void {
    this.cache.invalidate();
  }

  get name(): string {
    return this.zone.name;
  }

  contains(name: string): boolean {
    return this.zone.contains(name);
  }

  async readA(name: string): Promise<ARecord | undefined> {
    const sets = await this.cache.get(absoluteName(name));
    const checkers = new Map<string, HealthChecker>();
    if (!this.stopped) for (const id of new Set(sets.flatMap((s) => (s.failover && s.healthCheckId ? [s.healthCheckId] : [])))) checkers.set(id, await this.checker(id));
    const chosen = chooseAnswer(sets, (id) => checkers.get(id)?.healthy ?? true);
    if (!chosen) return undefined;
    if (chosen.failover) debug('%s: %s (%s)', name, chosen.failover, chosen.values.join(','));
    return { name: chosen.name, values: chosen.values, ttl: chosen.ttl };
  }

  /**
   * The checker of health check `id` (started on first use). After stop() none is created, and one
   * whose configuration arrives after stop() is never started: a query answered during teardown
   * must not leave a checker probing after it.
   */
  checker(id: string): Promise<HealthChecker> {
    if (this.stopped) return Promise.reject(new Error(`the failover zone ${this.zone.name} is stopped: no health checker for ${id}`));
    let checker = this.checkers.get(id);
    if (!checker) {
      checker = this.api.healthCheck(id).then((config) => {
        const started = new HealthChecker(config, (transition) => {
          const timed = { ...transition, t: this.now() };
          this.transitions.push(timed);
          this.onTransition(timed);
        });
        if (!this.stopped) started.start();
        return started;
      });
      // A failed start (API error, non-loopback endpoint) is asked again by the next query.
      checker.catch(() => this.checkers.delete(id));
      this.checkers.set(id, checker);
    }
    return checker;
  }

  /** Stops every checker (teardown). */
  async stop(): Promise<void> {
    this.stopped = true;
    const all = await Promise.allSettled(this.checkers.values());
    for (const c of all) if (c.status === 'fulfilled') c.value.stop();
    this.checkers.clear();
  }
}
