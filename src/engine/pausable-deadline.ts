/**
 * A deadline whose clock can stop: the scenario `timeout` bounds what drill does, and a game day's
 * wait for a person is bounded by the step's own `manualTimeout` instead. Without the pause, a
 * person taking the default 30 minutes at one manual step would hit the default 30-minute drill
 * timeout first, and the drill would end as an environment failure for a wait the scenario allowed.
 * Pauses nest (parallel waits would each pause it); the clock runs again when the last one ends.
 */
export class PausableDeadline {
  private remainingMs: number;
  private startedAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private pauses = 0;
  private done = false;

  constructor(
    totalMs: number,
    private readonly onExpiry: () => void,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.remainingMs = totalMs;
    this.arm();
  }

  /** Stops the clock until the returned function is called (once). */
  pause(): () => void {
    if (this.done) return () => undefined;
    if (this.pauses++ === 0) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.remainingMs -= this.now() - this.startedAt;
    }
    let resumed = false;
    return () => {
      if (resumed) return;
      resumed = true;
      if (--this.pauses === 0 && !this.done) this.arm();
    };
  }

  /** Time left on the clock, as of now. */
  get leftMs(): number {
    return this.timer === undefined ? this.remainingMs : this.remainingMs - (this.now() - this.startedAt);
  }

  dispose(): void {
    this.done = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(): void {
    this.startedAt = this.now();
    this.timer = setTimeout(() => {
      this.done = true;
      this.timer = undefined;
      this.onExpiry();
    }, Math.max(0, this.remainingMs));
  }
}
