import { describe, expect, it } from 'vitest';
import { rpoGroundTruth } from '../../bench/rpo-ground-truth.js';

describe('measured RPO against ground truth (real PostgreSQL, PITR to a time before the fault)', () => {
  it('equals the known lost window within one writer interval', async () => {
    const result = await rpoGroundTruth(2000, 100);
    expect(result.trueLost).toBeGreaterThan(10);
    // One writer interval as it really was (a loaded machine stretches it a little).
    expect(result.toleranceMs).toBeLessThan(1000);
    expect(Math.abs(result.measuredRpoMs - result.trueRpoMs)).toBeLessThanOrEqual(result.toleranceMs + 1);
    expect(Math.abs(result.measuredLost - result.trueLost)).toBeLessThanOrEqual(1);
    // And the window itself: about 2 s of writes lost.
    expect(result.measuredRpoMs).toBeGreaterThan(1500);
    expect(result.measuredRpoMs).toBeLessThan(2600);
  });
});
