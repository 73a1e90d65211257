import type { LoadDriverInput, LoadDriverResult } from './load-driver.js';

/**
 * autocannon (npm), in the harness's process: `amount` bounds the request count and a timer calls
 * stop() at the duration, so the run ends at whichever comes first (autocannon alone would let
 * `amount` override the duration). Several URLs share the connections.
 */
export async function runAutocannon(input: LoadDriverInput): Promise<LoadDriverResult> {
  // Imported when a load runs: most drills have none (a sixth of a second per drill process).
  const { default: autocannon } = await import('autocannon');
  return new Promise((resolve, reject) => {
    let timedOut = false;
    const instance = autocannon(
      {
        url: input.urls.length === 1 ? input.urls[0]! : input.urls,
        connections: input.connections,
        amount: input.requests,
        timeout: Math.max(1, Math.ceil(input.requestTimeoutMs / 1000)),
        ...(input.token ? { headers: { authorization: `Bearer ${input.token}` } } : {}),
      },
      (error, result) => {
        clearTimeout(timer);
        input.signal?.removeEventListener('abort', onAbort);
        if (error) {
          reject(error instanceof Error ? error : new Error(String(error)));
          return;
        }
        const responses = result.requests.total;
        const durationMs = result.duration * 1000;
        resolve({
          responses,
          durationMs,
          requestsPerSecond: durationMs > 0 ? Math.round((responses / durationMs) * 1000 * 10) / 10 : 0,
          latencyMs: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max, mean: result.latency.average },
          errors: result.errors,
          timeouts: result.timeouts,
          non2xx: result.non2xx,
          stoppedBy: timedOut ? 'duration' : 'requests',
        });
      },
    );
    const timer = setTimeout(() => {
      timedOut = true;
      instance.stop();
    }, input.durationMs);
    const onAbort = () => instance.stop();
    input.signal?.addEventListener('abort', onAbort, { once: true });
  });
}
