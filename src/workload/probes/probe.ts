/** A service probe: one check, run repeatedly; a throw (or a timeout) is a failure. */
export interface ProbeCheck {
  readonly name: string;
  readonly service: boolean;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  check(signal: AbortSignal): Promise<void>;
  close(): Promise<void>;
  /** Where the sample in flight was sent (an endpoint's name, a URL, host:port), for a timeout's message; undefined while not known. */
  inFlightTarget?(): string | undefined;
}

/** The message of a sample that outlived the probe's timeout, naming where it was sent when the probe says. */
export function probeTimeoutMessage(probe: ProbeCheck): string {
  const where = probe.inFlightTarget?.();
  return `timed out after ${probe.timeoutMs}ms${where ? ` (${where})` : ''}`;
}
