import createDebug from 'debug';

const debug = createDebug('drill:dns');

/**
 * How long the DNS server answers from record sets it has read before it reads them again.
 * Route 53 allows about five API requests per second per account (shared with everything else
 * the account runs): a DNS server that listed the zone on every query would be throttled by the
 * first probe load. One read per name per REFRESH_MS bounds it, whatever the query rate; the
 * drill's own changes invalidate at once (invalidate()), so its UPSERT is served on the next query.
 * A change made outside the drill is served within REFRESH_MS (Route 53's own propagation is slower).
 */
export const REFRESH_MS = 1_000;

interface Entry<T> {
  value?: T;
  readAt: number;
  /** The read in flight: every query meanwhile waits for it (one API call, not one per query). */
  pending?: Promise<T>;
  /** Bumped by invalidate(): a read that started before it does not fill the cache. */
  generation: number;
}

/**
 * Per-name cache of what the Route 53 API lists, with a short refresh and one read in flight per
 * name. A failed read is not kept: the next query asks again.
 */
export class RecordSetCache<T> {
  private readonly entries = new Map<string, Entry<T>>();
  private generation = 0;
  /** API reads made so far (tests, benchmarks). */
  reads = 0;

  constructor(
    private readonly read: (name: string) => Promise<T>,
    private readonly refreshMs = REFRESH_MS,
    private readonly now: () => number = () => performance.now(),
  ) {}

  get(name: string): Promise<T> {
    const entry = this.entries.get(name);
    if (entry && entry.generation === this.generation) {
      if (entry.pending) return entry.pending;
      if (entry.value !== undefined && this.now() - entry.readAt < this.refreshMs) return Promise.resolve(entry.value);
    }
    const generation = this.generation;
    const next: Entry<T> = { ...(entry?.value !== undefined ? { value: entry.value } : {}), readAt: entry?.readAt ?? 0, generation };
    this.reads += 1;
    next.pending = this.read(name).then(
      (value) => {
        if (this.entries.get(name) === next) {
          next.value = value;
          next.readAt = this.now();
          delete next.pending;
        }
        return value;
      },
      (error: unknown) => {
        if (this.entries.get(name) === next) this.entries.delete(name);
        throw error;
      },
    );
    this.entries.set(name, next);
    return next.pending;
  }

  /** Forget everything: the next query of each name reads the API again (after the drill's own change). */
  invalidate(): void {
    this.generation += 1;
    debug('record set cache invalidated');
  }
}
