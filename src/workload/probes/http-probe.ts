import { checkClock } from './clock-check.js';
import type { ProbeCheck } from './probe.js';

/** GETs a URL; a different status, a network error or a timeout is a failing sample. */
export class HttpProbe implements ProbeCheck {
  constructor(
    readonly name: string,
    private readonly url: string,
    private readonly expectStatus: number,
    readonly intervalMs: number,
    readonly timeoutMs: number,
    readonly service: boolean,
    private readonly maxClockSkewMs?: number,
  ) {}

  inFlightTarget(): string {
    return this.url;
  }

  async check(signal: AbortSignal): Promise<void> {
    const sentWallMs = Date.now();
    const response = await fetch(this.url, { signal: AbortSignal.any([signal, AbortSignal.timeout(this.timeoutMs)]) });
    await response.arrayBuffer();
    if (this.maxClockSkewMs !== undefined) checkClock(response.headers.get('date'), sentWallMs, Date.now(), this.maxClockSkewMs, this.url);
    if (response.status !== this.expectStatus) {
      throw new Error(`HTTP ${response.status} from ${this.url}, expected ${this.expectStatus}`);
    }
  }

  async close(): Promise<void> {}
}
