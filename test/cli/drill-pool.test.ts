import { describe, expect, it } from 'vitest';
import { drillBatches, inPool } from '../../src/cli/drill-pool.js';
import type { Scenario } from '../../src/scenario/schema.js';

const pg = { targets: { postgres: {} } } as unknown as Scenario;
const k8s = { targets: { postgres: {}, kubernetes: {} } } as unknown as Scenario;

describe('--parallel: batches', () => {
  it('consecutive drills that may share the machine form one batch of width N; a Kubernetes drill runs alone', () => {
    expect(drillBatches([pg, pg, k8s, pg, pg, pg, k8s, k8s], 2)).toEqual([
      { indexes: [0, 1], width: 2 },
      { indexes: [2], width: 1 },
      { indexes: [3, 4, 5], width: 2 },
      { indexes: [6], width: 1 },
      { indexes: [7], width: 1 },
    ]);
  });
  it('--parallel 1 (the default) is one drill at a time, in order', () => {
    expect(drillBatches([pg, k8s, pg], 1)).toEqual([0, 1, 2].map((i) => ({ indexes: [i], width: 1 })));
  });
});

describe('inPool', () => {
  it('starts tasks in order and never has more than width running', async () => {
    const started: number[] = [];
    let running = 0;
    let most = 0;
    await inPool([0, 1, 2, 3, 4], 2, async (i) => {
      started.push(i);
      most = Math.max(most, ++running);
      await new Promise((r) => setTimeout(r, 5 * (5 - i)));
      running--;
    });
    expect(started).toEqual([0, 1, 2, 3, 4]);
    expect(most).toBe(2);
  });
  it('width 1 runs them one after another (negative control for the bound above)', async () => {
    let running = 0;
    let most = 0;
    await inPool([0, 1, 2], 1, async () => {
      most = Math.max(most, ++running);
      await new Promise((r) => setTimeout(r, 2));
      running--;
    });
    expect(most).toBe(1);
  });
});
