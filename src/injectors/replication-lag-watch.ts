import createDebug from 'debug';
import type { DrillContext } from '../engine/drill-context.js';
import { replicaLag, type ReplicaLag } from '../targets/postgres/replica-lag.js';

const debug = createDebug('drill:inject');

/** How often a degraded replication link's lag is read. */
export const LAG_INTERVAL_MS = 1_000;

/**
 * Reads how far each replica is behind while the replication link is degraded, once a second, and
 * journals each reading (`replication-lag` events) and the worst seen (measurements
 * replicationLagMaxBytes, replicationLagMaxMs). It stops when told, once the fault is healed (after
 * one last reading: remove-network-fault then journals the catch-up), or when the primary or a
 * replica stops answering (a crashed primary: there is no lag to measure any more).
 */
export class ReplicationLagWatch {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  readonly readings: ReplicaLag[] = [];

  private constructor(
    private readonly ctx: DrillContext,
    /** Whether the fault is still in effect (its toxic still on the proxy). */
    private readonly inEffect: () => Promise<boolean>,
  ) {}

  static start(ctx: DrillContext, inEffect: () => Promise<boolean>): ReplicationLagWatch {
    const watch = new ReplicationLagWatch(ctx, inEffect);
    watch.arm(0);
    return watch;
  }

  /** One reading of every replica still in recovery now, journaled; empty when the primary does not answer. */
  async read(): Promise<ReplicaLag[]> {
    const { pg, recorder } = this.ctx;
    const lags: ReplicaLag[] = [];
    for (const replica of pg.replicas) {
      const lag = await replicaLag(pg.primary, replica);
      if (!lag.inRecovery) continue;
      lags.push(lag);
      this.readings.push(lag);
      const m = recorder.journal.measurements;
      m.replicationLagMaxBytes = Math.max(m.replicationLagMaxBytes ?? 0, lag.replayBytesBehind);
      if (lag.replayAgeMs !== null) m.replicationLagMaxMs = Math.max(m.replicationLagMaxMs ?? 0, lag.replayAgeMs);
      recorder.event('replication-lag', `${lag.replica} is ${lag.replayBytesBehind} bytes of WAL behind ${pg.primary.name} (${lag.receiveBytesBehind} not received)`, { ...lag });
    }
    return lags;
  }

  private arm(delay: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.tick().catch((error: unknown) => debug('lag reading stopped: %s', error instanceof Error ? error.message : String(error)));
    }, delay);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    const still = await this.inEffect();
    await this.read();
    if (still) this.arm(LAG_INTERVAL_MS);
    else debug('the fault was healed: lag reading stopped');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }
}
