import { sleep } from '../engine/clock.js';
import { buildProbes } from '../engine/build-probes.js';
import type { DrillContext } from '../engine/drill-context.js';
import { InputError } from '../engine/errors.js';
import { checkWithinTimeout, type ProbeCheck } from '../workload/probes/probe.js';

export interface HealthResult {
  healthy: boolean;
  /** The service probes that failed, with why. */
  failing: Array<{ probe: string; error: string }>;
}

export interface GateResult {
  healthy: boolean;
  checks: number;
  waitedMs: number;
  /** The last failing probes (empty once healthy). */
  failing: HealthResult['failing'];
}

/**
 * The runbook scripts' `curl -f https://truststream.yourdomain.com/health`: one round of every
 * service probe of the scenario (the same definitions the RTO is judged by), run by the procedure
 * itself rather than read from the drill's probe samples, as the script runs its own curl.
 * Healthy when every one passes. Dispose it to close the probes' connections.
 */
export class ServiceHealth implements AsyncDisposable {
  private readonly probes: ProbeCheck[];

  constructor(private readonly ctx: DrillContext, what: string) {
    this.probes = buildProbes(ctx.scenario, ctx).filter((p) => p.service);
    if (this.probes.length === 0) {
      throw new InputError('NO_SERVICE_PROBES', `${what} checks health with the scenario's service probes, and it has none; mark at least one probe service: true`);
    }
  }

  async check(): Promise<HealthResult> {
    const results = await Promise.all(this.probes.map((p) => this.one(p)));
    const failing = results.filter((r) => r !== undefined);
    return { healthy: failing.length === 0, failing };
  }

  /**
   * `timeout T bash -c 'until curl -f …; do sleep P; done'`: checks every `pollMs` until healthy
   * or until the next check would start at or after `timeoutMs`.
   */
  async waitUntilHealthy(timeoutMs: number, pollMs: number): Promise<GateResult> {
    const started = Date.now();
    let checks = 0;
    for (;;) {
      const result = await this.check();
      checks += 1;
      const waitedMs = Date.now() - started;
      if (result.healthy || waitedMs + pollMs >= timeoutMs) return { healthy: result.healthy, checks, waitedMs, failing: result.failing };
      await sleep(pollMs, this.ctx.signal);
    }
  }

  private async one(probe: ProbeCheck): Promise<HealthResult['failing'][number] | undefined> {
    try {
      await checkWithinTimeout(probe, this.ctx.signal);
      return undefined;
    } catch (error) {
      return { probe: probe.name, error: error instanceof Error ? error.message : String(error) };
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await Promise.allSettled(this.probes.map((p) => p.close()));
  }
}
