/**
 * The decision logic of the runbook's "Circuit Breaker Implementation"
 * (scripts/monitoring/circuit-breaker.sh), as a pure function so its rules can be tested without a
 * cluster or a clock:
 *
 *   if now - START_TIME > TIME_WINDOW: ERROR_COUNT=0; START_TIME=now     (window exceeded)
 *   health check fails:  ERROR_COUNT++; trip when ERROR_COUNT >= ERROR_THRESHOLD
 *   health check passes: ERROR_COUNT=0                                   (START_TIME stays)
 *
 * The window is the script's: a fixed window from START_TIME, renewed only when it is exceeded,
 * not a sliding one; failures that straddle its end start counting again from zero.
 */

export interface BreakerConfig {
  /** ERROR_THRESHOLD: failures in a row (within one window) that trip the breaker. */
  threshold: number;
  /** TIME_WINDOW in milliseconds. */
  windowMs: number;
}

export interface BreakerState {
  /** ERROR_COUNT */
  errorCount: number;
  /** START_TIME, in the caller's milliseconds. */
  windowStart: number;
  tripped: boolean;
}

export interface HealthReading {
  /** When the check ran, in the same milliseconds as windowStart. */
  at: number;
  healthy: boolean;
}

export interface BreakerTransition {
  state: BreakerState;
  /** Why the counter went back to zero before this reading was counted, if it did. */
  reset?: 'window' | 'success';
  /** This reading tripped the breaker: the caller starts the emergency procedure. */
  trip: boolean;
}

export function initialBreakerState(start: number): BreakerState {
  return { errorCount: 0, windowStart: start, tripped: false };
}

/** One turn of the script's loop. A tripped breaker stays tripped (the script `break`s). */
export function breakerStep(state: BreakerState, reading: HealthReading, config: BreakerConfig): BreakerTransition {
  if (state.tripped) return { state, trip: false };
  let { errorCount, windowStart } = state;
  let reset: BreakerTransition['reset'];
  if (reading.at - windowStart > config.windowMs) {
    if (errorCount > 0) reset = 'window';
    errorCount = 0;
    windowStart = reading.at;
  }
  if (reading.healthy) {
    if (errorCount > 0) reset = 'success';
    return { state: { errorCount: 0, windowStart, tripped: false }, trip: false, ...(reset ? { reset } : {}) };
  }
  errorCount += 1;
  const trip = errorCount >= config.threshold;
  return { state: { errorCount, windowStart, tripped: trip }, trip, ...(reset ? { reset } : {}) };
}
