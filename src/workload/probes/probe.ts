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

/**
 * One check of `probe`, failed with probeTimeoutMessage once it outlives the probe's timeout. The
 * deadline is set before the check starts: a probe's own timeout of the same length (fetch's) then
 * fires after it, and the sample's error is the one that names where it was sent.
 */
export async function checkWithinTimeout(probe: ProbeCheck, signal: AbortSignal): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(probeTimeoutMessage(probe))), probe.timeoutMs);
  });
  try {
    await Promise.race([probe.check(signal), deadline]);
  } finally {
    clearTimeout(timer);
  }
}
