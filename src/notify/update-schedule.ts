import createDebug from 'debug';
import { sleep, type Clock } from '../engine/clock.js';
import type { NotificationUpdatesRecord } from '../engine/journal-types.js';

const debug = createDebug('drill:notify');

/**
 * The Initial Alert promises "updates every 15 minutes": once the incident is open (the first
 * Initial Alert went out) `tick` is called every `every` ms on the drill's clock, counted from that
 * alert (a slow tick does not push the later ones back), until `stop` (before the Resolution
 * Notice, or at teardown). What it did is kept in `record` for the notification check.
 */
export class UpdateSchedule {
  readonly record: NotificationUpdatesRecord;
  private readonly stopper = new AbortController();
  private readonly loop: Promise<void>;

  constructor(
    private readonly every: number,
    private readonly clock: Clock,
    signal: AbortSignal,
    tick: (n: number) => void,
  ) {
    this.record = { everyMs: every, tStart: clock.now(), sent: 0 };
    const stop = AbortSignal.any([signal, this.stopper.signal]);
    this.loop = this.run(stop, tick).catch((error: unknown) => {
      if (!stop.aborted) debug('update schedule stopped: %s', (error as Error)?.message);
    });
  }

  private async run(signal: AbortSignal, tick: (n: number) => void): Promise<void> {
    for (let n = 1; ; n++) {
      const due = this.record.tStart + n * this.every;
      // A timer may fire a millisecond before the drill's clock reaches `due` (Node rounds timer
      // times): sleep again for what is left, so an update never goes out early.
      while (this.clock.now() < due) {
        await sleep(Math.ceil(due - this.clock.now()), signal);
        if (signal.aborted) return;
      }
      if (signal.aborted) return;
      this.record.sent = n;
      tick(n);
    }
  }

  /** No further update; the record says when they stopped. */
  async stop(): Promise<void> {
    if (this.record.tStop === undefined) this.record.tStop = this.clock.now();
    this.stopper.abort();
    await this.loop;
  }
}
