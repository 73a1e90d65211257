import { analyseLedger, measureRpo } from '../src/assertions/index.js';
import { startClock, sleep } from '../src/engine/clock.js';
import type { CanaryAck } from '../src/engine/journal-types.js';
import { ResourceLedger } from '../src/engine/resource-ledger.js';
import { NativeDeployment } from '../src/targets/postgres/native-deployment.js';
import { withClient } from '../src/targets/postgres/with-client.js';
import { CanaryWriter } from '../src/workload/canary-writer.js';
import { DatabaseRouter } from '../src/workload/database-router.js';
import { createDataset } from '../src/workload/dataset.js';
import { readLedger } from '../src/workload/ledger-reader.js';

export interface RpoGroundTruth {
  intervalMs: number;
  lostWindowMs: number;
  measuredRpoMs: number;
  trueRpoMs: number;
  measuredLost: number;
  trueLost: number;
  /**
   * One writer interval as it really was at the target: the gap between the last acknowledgement
   * before the target time and the next one (a write committed just before the target can be
   * acknowledged just after it, so one write either side is within the truth).
   */
  toleranceMs: number;
  withinOneInterval: boolean;
}

/**
 * A known loss: PITR to a time `lostWindowMs` before the fault. The truth is what the client saw
 * (acks older than the target time survive); the harness's measured RPO and lost-write count must
 * equal it within one writer interval.
 */
export async function rpoGroundTruth(lostWindowMs: number, intervalMs = 100): Promise<RpoGroundTruth> {
  const clock = startClock();
  let deployment: NativeDeployment | undefined;
  try {
    deployment = await NativeDeployment.create({ runId: 'bench-rpo', clock, ledger: new ResourceLedger(undefined) }, (d) => (deployment = d));
    await createDataset(deployment.primary.connection, { accounts: 10, transfers: 10 });
    const backup = await deployment.takeBaseBackup(deployment.primary);
    const router = new DatabaseRouter(deployment.primary);
    const acks: CanaryAck[] = [];
    const writer = new CanaryWriter({ router, clock, intervalMs, onAck: (a) => acks.push(a), onFailure: () => undefined });
    writer.start();
    await sleep(lostWindowMs + 3000);
    const tFault = clock.now();
    const targetT = tFault - lostWindowMs;
    await writer.stop();
    await withClient(router.connection, (c) => c.query('select pg_switch_wal()'));
    await sleep(1500);
    await deployment.primary.stop();

    const restored = await deployment.restore(backup, 'bench-rpo-restored', { kind: 'time', time: clock.wallAt(targetT) });
    const ledger = await readLedger({ ...restored.connection, database: 'drill' }, restored.name, clock.stamp);
    const analysis = analyseLedger(acks, ledger.rows);
    const measured = measureRpo(acks, analysis, tFault)!;

    const truthSurvivors = acks.filter((a) => a.tAck < targetT);
    const trueRpoMs = acks.at(-1)!.tAck - (truthSurvivors.at(-1)?.tAck ?? acks[0]!.tAck);
    const trueLost = acks.length - truthSurvivors.length;
    const next = acks[truthSurvivors.length];
    const toleranceMs = Math.max(intervalMs, next && truthSurvivors.length ? next.tAck - truthSurvivors.at(-1)!.tAck : 0);
    return {
      intervalMs,
      lostWindowMs,
      measuredRpoMs: Math.round(measured.rpoMs),
      trueRpoMs: Math.round(trueRpoMs),
      measuredLost: analysis.lost.length,
      trueLost,
      toleranceMs: Math.round(toleranceMs),
      withinOneInterval: Math.abs(measured.rpoMs - trueRpoMs) <= toleranceMs && Math.abs(analysis.lost.length - trueLost) <= 1,
    };
  } finally {
    await deployment?.dispose();
  }
}
