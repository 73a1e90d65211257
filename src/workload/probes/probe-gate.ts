/**
 * Lets an injector hold the service probes while it works on a target in a way the fault itself
 * does not (the server stopped so its files can be edited): that outage is the harness's, and a
 * sample taken in it would be neither steady state nor an observation of the fault. Holding waits
 * for the samples in flight, and no sample starts until the gate opens again.
 */
export class ProbeGate {
  private active = 0;
  private holds = 0;
  private opened: Promise<void> = Promise.resolve();
  private release: () => void = () => undefined;
  private idleWaiters: Array<() => void> = [];

  /** Called by the probe runner before a sample starts; resolves once no one holds the gate. */
  async enter(): Promise<void> {
    while (this.holds > 0) await this.opened;
    this.active += 1;
  }

  /** Called by the probe runner once a sample has been recorded (or dropped). */
  exit(): void {
    this.active -= 1;
    if (this.active > 0) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  /** Runs `fn` with no probe sample in flight and none starting. */
  async holdWhile<T>(fn: () => Promise<T>): Promise<T> {
    if (this.holds++ === 0) this.opened = new Promise((resolve) => (this.release = resolve));
    try {
      if (this.active > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
      return await fn();
    } finally {
      if (--this.holds === 0) this.release();
    }
  }
}
