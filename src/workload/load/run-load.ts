import type { DrillContext } from '../../engine/drill-context.js';
import { EnvironmentError } from '../../engine/errors.js';
import type { LoadRun } from '../../engine/journal-types.js';
import type { LoadSettings } from '../../scenario/schema.js';
import { runAb } from './ab-driver.js';
import { runAutocannon } from './autocannon-driver.js';
import { runK6 } from './k6-driver.js';
import type { LoadDriver } from './load-driver.js';

const DRIVERS: Record<LoadSettings['driver'], LoadDriver> = { autocannon: runAutocannon, ab: runAb, k6: runK6 };

/**
 * The runbook's load test (`ab -n 1000 -c 10 .../health`) against the service's current endpoints,
 * bounded by request count and time; the run goes into journal.load (the performance check's
 * input) and a journal event.
 */
export async function runLoad(ctx: DrillContext, settings: LoadSettings, phase: LoadRun['phase']): Promise<LoadRun> {
  const endpoints = await ctx.service.endpoints(settings.component);
  if (endpoints.length === 0) throw new EnvironmentError('LOAD_NO_ENDPOINTS', `the service has no ${settings.component} endpoint to load`);
  const start = ctx.clock.stamp();
  const result = await DRIVERS[settings.driver]({
    urls: endpoints.map((e) => `${e.url}${settings.path}`),
    requests: settings.requests,
    connections: settings.connections,
    durationMs: settings.duration,
    requestTimeoutMs: settings.requestTimeout,
    ...(settings.path.startsWith('/api/') ? { token: ctx.service.token } : {}),
    signal: ctx.signal,
    ledger: ctx.ledger,
  });
  const run: LoadRun = {
    phase,
    driver: settings.driver,
    path: settings.path,
    endpoints: (settings.driver === 'ab' ? endpoints.slice(0, 1) : endpoints).map((e) => e.name),
    start,
    end: ctx.clock.stamp(),
    settings: { requests: settings.requests, connections: settings.connections, durationMs: settings.duration },
    ...result,
  };
  (ctx.recorder.journal.load ??= []).push(run);
  ctx.recorder.event(
    'load',
    `${phase} load (${settings.driver}, ${settings.path}): ${run.responses} responses in ${Math.round(run.durationMs)} ms (${run.requestsPerSecond}/s), ` +
      `p50 ${run.latencyMs.p50} ms, p90 ${run.latencyMs.p90} ms, p99 ${run.latencyMs.p99} ms, ${run.errors} errors, ${run.non2xx} non-2xx; stopped by ${run.stoppedBy}`,
  );
  return run;
}
