import type { Clock } from '../../engine/clock.js';
import type { ProbeSample } from '../../engine/journal-types.js';
import { checkWithinTimeout, type ProbeCheck } from './probe.js';
import { ProbeGate } from './probe-gate.js';

/** A probe's next sample, while it waits for its turn (not while a sample is in flight). */
interface ScheduledSample {
  timer: NodeJS.Timeout;
  /** When it starts, on the run clock. */
  at: number;
}

/** Samples every probe on its own interval into the journal until stopped. */
export class ProbeRunner {
  private readonly scheduled = new Map<ProbeCheck, ScheduledSample>();
  private readonly lastStarted = new Map<ProbeCheck, number>();
  private readonly running = new Set<Promise<void>>();
  private readonly abort = new AbortController();
  private stopped = false;
  /** Every service probe has a sample started at or after this (sampleServiceBy). */
  private serviceDueBy = -Infinity;

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

  /**
   * Every service probe starts a sample at or soon after `t` instead of on its next tick, unless it
   * already has one started then: the wait for a stability window to be observed to its end
   * (DESIGN.md section 4) then ends at the window's end, not up to an interval after it. One
   * probe's samples still never overlap: a probe with a sample in flight takes the next one as
   * soon as it ends. Each call adds at most one sample per probe, so the traffic stays bounded.
   */
  sampleServiceBy(t: number): void {
    if (this.stopped || t <= this.serviceDueBy) return;
    this.serviceDueBy = t;
    for (const [probe, next] of this.scheduled) {
      if (!probe.service || next.at <= t) continue;
      clearTimeout(next.timer);
      this.scheduled.delete(probe);
      this.loop(probe, next.at - this.clock.now());
    }
  }

  private loop(probe: ProbeCheck, delay: number): void {
    if (this.stopped) return;
    const at = this.clock.now() + Math.max(0, delay);
    const dueBy = probe.service && (this.lastStarted.get(probe) ?? -Infinity) < this.serviceDueBy ? this.serviceDueBy : Infinity;
    this.startAt(probe, Math.min(at, dueBy));
  }

  /** The probe's next sample, started no earlier than `at` on the run clock. */
  private startAt(probe: ProbeCheck, at: number): void {
    const timer = setTimeout(() => {
      this.scheduled.delete(probe);
      if (this.stopped) return;
      // A timer can fire before the clock reads its target (libuv counts from a cached loop
      // time): a sample due at a window's end must not start inside the window.
      if (this.clock.now() < at) return this.startAt(probe, at);
      const run = this.gatedSample(probe).then((started) => {
        this.running.delete(run);
        this.loop(probe, Math.max(0, probe.intervalMs - (this.clock.now() - started)));
      });
      this.running.add(run);
    }, Math.max(0, Math.ceil(at - this.clock.now())));
    this.scheduled.set(probe, { timer, at });
  }

  /** One sample once the gate lets it start; its time is taken then, so a held sample is a later one. Returns that time. */
  private async gatedSample(probe: ProbeCheck): Promise<number> {
    await this.gate.enter();
    const started = this.clock.now();
    this.lastStarted.set(probe, started);
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
    for (const { timer } of this.scheduled.values()) clearTimeout(timer);
    this.scheduled.clear();
    await Promise.allSettled([...this.running]);
    await Promise.allSettled(this.probes.map((p) => p.close()));
  }
}
