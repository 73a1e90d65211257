import createDebug from 'debug';
import { sleep, type Clock } from '../../engine/clock.js';
import type { AttackAttempt } from '../../engine/journal-types.js';
import type { CredentialUse } from './credential-use.js';

const debug = createDebug('drill:attacker');

export interface AttackerOptions {
  /** How it uses the credential (an HTTP request with a token, a database login). */
  use: CredentialUse;
  /** The credential's fingerprint, which names it in every attempt. */
  fingerprint: string;
  intervalMs: number;
  maxAttempts: number;
  maxDurationMs: number;
  clock: Clock;
  /** Each attempt as it ends, in order. */
  record(attempt: AttackAttempt): void;
}

/**
 * Someone who holds a leaked credential and uses it: one use at a time, `intervalMs` apart, each
 * attempt recorded with when it was sent and answered and what the system said. It stops at
 * whichever comes first of `maxAttempts`, `maxDurationMs` after its first use, or `stop()`.
 */
export class Attacker {
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;
  private firstAllowedAt: AttackAttempt | undefined;
  private readonly waiters = new Set<(attempt: AttackAttempt) => void>();
  private attempts = 0;

  constructor(private readonly options: AttackerOptions) {}

  start(): void {
    this.loop ??= this.run()
      .catch((error: unknown) => debug('attacker stopped: %s', error instanceof Error ? error.message : String(error)))
      .finally(() => this.options.use.close().catch(() => undefined));
  }

  /** Uses so far. */
  get sent(): number {
    return this.attempts;
  }

  /** Resolves with the first attempt the system allowed (now, if one was), or undefined after `withinMs`, on `signal`, or once the attacker stopped. */
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
    const { clock, fingerprint, intervalMs, maxAttempts, maxDurationMs, use } = this.options;
    const startedAt = clock.now();
    while (!this.abort.signal.aborted && this.attempts < maxAttempts && clock.now() - startedAt < maxDurationMs) {
      const t = clock.now();
      const outcome = await use.use(this.abort.signal);
      const attempt: AttackAttempt = { credential: fingerprint, t, tEnd: clock.now(), ...outcome };
      this.attempts++;
      this.options.record(attempt);
      if (attempt.outcome === 'allowed' && !this.firstAllowedAt) {
        this.firstAllowedAt = attempt;
        for (const waiter of [...this.waiters]) waiter(attempt);
      }
      await sleep(intervalMs, this.abort.signal).catch(() => undefined);
    }
    debug('attacker done after %d use(s) of %s', this.attempts, use.description);
  }
}
