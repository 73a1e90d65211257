import createDebug from 'debug';
import type { Clock } from '../engine/clock.js';
import type { CanaryAck, RecoveredLedger, Stamp } from '../engine/journal-types.js';
import type { ConnectionInfo } from '../targets/postgres/types.js';
import type { CanaryChannel } from './canary-channel.js';
import type { DatabaseRouter } from './database-router.js';
import { SqlCanaryChannel } from './sql-canary-channel.js';

const debug = createDebug('drill:canary');

/** The longest wait between attempts while writes fail (the backoff doubles up to it). */
export const CANARY_MAX_BACKOFF_MS = 1000;

/**
 * The wait before the next attempt after `consecutiveFailures` failed writes: the interval while
 * writes succeed, then doubling up to CANARY_MAX_BACKOFF_MS (never below the interval). A database
 * that refuses connections while it starts pays a process and an authentication for each attempt:
 * at 10 a second, the drill's own canary starved a server held to 0.02 CPU out of its crash
 * recovery. Only the outage is sampled more coarsely; the ledger before it is not.
 */
export function canaryDelayMs(intervalMs: number, consecutiveFailures: number): number {
  if (consecutiveFailures === 0) return intervalMs;
  return Math.max(intervalMs, Math.min(CANARY_MAX_BACKOFF_MS, intervalMs * 2 ** consecutiveFailures));
}

export interface CanaryWriterOptions {
  router: DatabaseRouter;
  clock: Clock;
  intervalMs: number;
  onAck: (ack: CanaryAck) => void;
  onFailure: (message: string) => void;
  /** How rows are written and read back; default SQL into drill_canary on the router's instance. */
  channel?: CanaryChannel;
}

/**
 * The RPO ledger's source of truth: writes sequence-numbered rows at its interval, one at a time,
 * and records each acknowledged write; while writes fail, it backs off (canaryDelayMs) where its
 * channel says so (SQL, not the API). A write whose outcome is unknown (connection lost
 * mid-commit, no answer) is never recorded as acknowledged, and its id is not reused, so the
 * ledger only claims what the client saw.
 */
export class CanaryWriter {
  private readonly channel: CanaryChannel;
  private timer: NodeJS.Timeout | undefined;
  private nextId = 1;
  private epoch = 1;
  private paused = false;
  private stopped = true;
  private inFlight: Promise<void> | undefined;
  attempts = 0;
  failures = 0;
  private consecutiveFailures = 0;

  constructor(private readonly options: CanaryWriterOptions) {
    this.channel = options.channel ?? new SqlCanaryChannel(options.router);
  }

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** Stops issuing writes (the runbook's "stop write operations") and waits for the one in flight. */
  async pause(): Promise<void> {
    this.paused = true;
    await this.inFlight;
  }

  resume(): void {
    this.paused = false;
    // Writes stopped on purpose start again from the interval, not from the backoff before the
    // pause (the tick already scheduled still comes first, at most CANARY_MAX_BACKOFF_MS away).
    this.consecutiveFailures = 0;
  }

  /**
   * Points the writer at whatever the router now names, as an application does after its
   * DATABASE_URL changes: a new epoch, ids continuing after the highest one that survived there.
   */
  async retarget(): Promise<void> {
    await this.pause();
    await this.channel.reset();
    const max = await this.channel.highestId();
    this.epoch += 1;
    this.nextId = max + 1;
    debug('retargeted: epoch %d continues at id %d', this.epoch, this.nextId);
    this.resume();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.inFlight;
    await this.channel.reset();
  }

  /** The canary rows an instance holds (the ledger read back after recovery). */
  readBack(connection: ConnectionInfo, instance: string, at: () => Stamp): Promise<RecoveredLedger> {
    return this.channel.readBack(connection, instance, at);
  }

  private schedule(delay: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      const started = this.options.clock.now();
      this.inFlight = this.paused ? Promise.resolve() : this.writeOne();
      void this.inFlight.finally(() => {
        this.inFlight = undefined;
        const delay = canaryDelayMs(this.options.intervalMs, this.channel.backsOffWhileFailing ? this.consecutiveFailures : 0);
        this.schedule(Math.max(0, delay - (this.options.clock.now() - started)));
      });
    }, delay);
  }

  private async writeOne(): Promise<void> {
    const id = this.nextId++;
    const epoch = this.epoch;
    // On the drill's clock (its wall origin plus monotonic time), like tAck: the ledger check holds
    // the stored commit time between the two, and a wall clock stepped mid-drill must not move one bound.
    const clientWall = this.options.clock.wallAt(this.options.clock.now());
    this.attempts += 1;
    try {
      const receipt = await this.channel.write(id, epoch);
      this.options.onAck({ id, epoch, checksum: receipt.checksum, tAck: this.options.clock.now(), clientWall, serverWall: receipt.serverWall });
      this.consecutiveFailures = 0;
    } catch (error) {
      this.failures += 1;
      this.consecutiveFailures += 1;
      const message = error instanceof Error ? error.message : String(error);
      debug('write %d failed: %s', id, message);
      this.options.onFailure(message);
      await this.channel.reset();
    }
  }
}
