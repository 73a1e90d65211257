import type { Clock } from '../../engine/clock.js';
import type { ProbeSample } from '../../engine/journal-types.js';
import { checkWithinTimeout, type ProbeCheck } from './probe.js';
import { ProbeGate } from './probe-gate.js';

/** Samples every probe on its own interval into the journal until stopped. */
export class ProbeRunner {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly running = new Set<Promise<void>>();
  private readonly abort = new AbortController();
  private stopped = false;

  constructor(
    private readonly probes: ProbeCheck[],
    private readonly clock: Clock,
    private readonly record: (sample: ProbeSample) => void,
    /** Injectors hold it while they stop a target for their own edit (src/workload/probes/probe-gate.ts). */
    private readonly gate: ProbeGate = new ProbeGate(),
  ) {}

  start(): void {
    for (const probe of this.probes) this.loop(probe, 0);
  }

  private loop(probe: ProbeCheck, delay: number): void {
    if (this.stopped) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      const run = this.gatedSample(probe).then((started) => {
        this.running.delete(run);
        this.loop(probe, Math.max(0, probe.intervalMs - (this.clock.now() - started)));
      });
      this.running.add(run);
    }, delay);
    this.timers.add(timer);
  }

  /** One sample once the gate lets it start; its time is taken then, so a held sample is a later one. Returns that time. */
  private async gatedSample(probe: ProbeCheck): Promise<number> {
    await this.gate.enter();
    const started = this.clock.now();
    try {
      if (!this.stopped) await this.sample(probe, started);
    } finally {
      this.gate.exit();
    }
    return started;
  }

  private async sample(probe: ProbeCheck, t: number): Promise<void> {
    try {
      await checkWithinTimeout(probe, this.abort.signal);
      if (!this.stopped) this.record({ probe: probe.name, service: probe.service, t, ok: true, latencyMs: this.clock.now() - t });
    } catch (error) {
      if (this.stopped) return;
      const message = error instanceof Error ? error.message : String(error);
      this.record({ probe: probe.name, service: probe.service, t, ok: false, latencyMs: this.clock.now() - t, error: message });
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    for (const timer of this.timers) clearTimeout(timer);
    await Promise.allSettled([...this.running]);
    await Promise.allSettled(this.probes.map((p) => p.close()));
  }
}
