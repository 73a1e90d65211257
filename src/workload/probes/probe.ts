/** A service probe: one check, run repeatedly; a throw (or a timeout) is a failure. */
export interface ProbeCheck {
  readonly name: string;
  readonly service: boolean;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  check(signal: AbortSignal): Promise<void>;
  close(): Promise<void>;
}
