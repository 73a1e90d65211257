import createDebug from 'debug';
import { sleep, type Clock } from '../engine/clock.js';
import type { AttackAttempt } from '../engine/journal-types.js';
import type { ServiceEndpoints } from '../targets/service/types.js';
import { ServiceClient } from './service-client.js';

const debug = createDebug('drill:attacker');

export interface AttackerOptions {
  endpoints: ServiceEndpoints;
  /** The leaked token (memory only: the Authorization header) and its fingerprint (the journal). */
  token: string;
  fingerprint: string;
  path: string;
  intervalMs: number;
  timeoutMs: number;
  maxAttempts: number;
  maxDurationMs: number;
  clock: Clock;
  /** Each attempt as it ends, in order. */
  record(attempt: AttackAttempt): void;
}

/** An address the attacker may send to: loopback only (a plain-process service listens there). */
function isLoopbackUrl(url: string): boolean {
  return new URL(url).hostname.startsWith('127.');
}

/**
 * Someone who holds a leaked API token and uses it: its own client (not the drill's probes, not
 * its token), one GET at a time on the service's API endpoints in turn, each attempt recorded with
 * when it was sent and answered and what the service said. It stops at whichever comes first of
 * `maxAttempts`, `maxDurationMs` after its first request, or `stop()`.
 */
export class Attacker {
  private readonly client: ServiceClient;
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;
  private firstAllowedAt: AttackAttempt | undefined;
  private readonly waiters = new Set<(attempt: AttackAttempt) => void>();
  private attempts = 0;

  constructor(private readonly options: AttackerOptions) {
    this.client = new ServiceClient(options.endpoints, 'api', options.token);
  }

  start(): void {
    this.loop ??= this.run().catch((error: unknown) => debug('attacker stopped: %s', error instanceof Error ? error.message : String(error)));
  }

  /** Requests sent so far. */
  get sent(): number {
    return this.attempts;
  }

  /** Resolves with the first attempt the service allowed (now, if one was), or undefined after `withinMs` or once the attacker stopped. */
  firstAllowed(withinMs: number, signal?: AbortSignal): Promise<AttackAttempt | undefined> {
    if (this.firstAllowedAt) return Promise.resolve(this.firstAllowedAt);
    return new Promise((resolve) => {
      const done = (attempt: AttackAttempt | undefined) => {
        clearTimeout(timer);
        this.waiters.delete(done);
        signal?.removeEventListener('abort', onAbort);
        resolve(attempt);
      };
      const onAbort = () => done(undefined);
      const timer = setTimeout(() => done(undefined), withinMs);
      this.waiters.add(done);
      signal?.addEventListener('abort', onAbort, { once: true });
      void this.loop?.then(() => done(this.firstAllowedAt));
    });
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
  }

  private async run(): Promise<void> {
    const { clock, intervalMs, maxAttempts, maxDurationMs } = this.options;
    const startedAt = clock.now();
    while (!this.abort.signal.aborted && this.attempts < maxAttempts && clock.now() - startedAt < maxDurationMs) {
      const attempt = await this.attempt();
      this.attempts++;
      this.options.record(attempt);
      if (attempt.outcome === 'allowed' && !this.firstAllowedAt) {
        this.firstAllowedAt = attempt;
        for (const waiter of [...this.waiters]) waiter(attempt);
      }
      await sleep(intervalMs, this.abort.signal).catch(() => undefined);
    }
    debug('attacker done after %d request(s)', this.attempts);
  }

  private async attempt(): Promise<AttackAttempt> {
    const { clock, fingerprint, path, timeoutMs } = this.options;
    const t = clock.now();
    const base = { credential: fingerprint, t };
    try {
      const endpoint = await this.client.next();
      // The rule for every address a drill contacts: loopback or a network it made; a plain service is on loopback.
      if (!isLoopbackUrl(endpoint.url)) return { ...base, tEnd: clock.now(), outcome: 'error', endpoint: endpoint.name, error: `${endpoint.name} is not on loopback: not contacted` };
      const reply = await this.client.request('GET', path, { timeoutMs, authenticated: true, endpoint, signal: this.abort.signal });
      const outcome = reply.status >= 200 && reply.status < 300 ? 'allowed' : reply.status === 401 || reply.status === 403 ? 'rejected' : 'error';
      return { ...base, tEnd: clock.now(), outcome, status: reply.status, endpoint: endpoint.name };
    } catch (error) {
      return { ...base, tEnd: clock.now(), outcome: 'error', error: error instanceof Error ? error.message : String(error) };
    }
  }
}
