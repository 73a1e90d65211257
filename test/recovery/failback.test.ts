import { describe, expect, it } from 'vitest';
import type { DrillContext } from '../../src/engine/drill-context.js';
import { failback, replayReached } from '../../src/recovery/failback.js';
import { findRegion } from '../../src/targets/regions/types.js';
import { writableAfterFence } from '../../src/recovery/fence-dr-writes.js';

describe('failback: when the rebuilt primary has everything', () => {
  it('has replayed the target when its replay position is at or past it (compared as 64-bit positions, not text)', () => {
    expect(replayReached('0/7007188', '0/7007188')).toBe(true);
    expect(replayReached('1/0', '0/FFFFFFFF')).toBe(true);
    // "0/A000000" > "0/9FFFFFF" as a position though not as text.
    expect(replayReached('0/A000000', '0/9FFFFFF')).toBe(true);
    expect(replayReached('0/9FFFFFF', '0/A000000')).toBe(false);
    // A standby that has replayed nothing yet has not caught up.
    expect(replayReached(null, '0/1')).toBe(false);
  });
});

describe('fence of the DR primary: which transactions may still write', () => {
  const t = (pid: number, xactStart: number) => ({ pid, xactStart, state: 'active' });

  it('keeps those begun at or before the fence (read-write from their start), drops those begun after (read-only)', () => {
    expect(writableAfterFence([t(1, 999), t(2, 1000), t(3, 1001)], 1000).map((x) => x.pid)).toEqual([1, 2]);
    expect(writableAfterFence([], 1000)).toEqual([]);
  });
});

describe('failback: what it refuses before touching anything', () => {
  const region = (name: string, role: 'primary' | 'dr') => ({ name, role, range: '', apiAddresses: [], processes: {}, database: { name: `${role}-db` } });
  const ctx = (over: { provider?: string; rebuild?: boolean; routing?: 'simple' | 'failover' } = {}) => {
    const regions = { primary: region('us-west-2', 'primary'), dr: region('us-east-1', 'dr') };
    return {
      pg: { drillTarget: true, provider: over.provider ?? 'native', ...(over.rebuild === false ? {} : { rebuildAsReplica: () => Promise.reject(new Error('not reached')) }) },
      regions: { ...regions, routing: over.routing ?? 'simple', find: (ref: string) => findRegion(regions as never, ref) },
    } as unknown as DrillContext;
  };
  const step = (over: Record<string, unknown> = {}) => ({ step: 'failback', primaryRegion: 'primary', drRegion: 'dr', fenceDr: true, catchUpTimeout: 60_000, timeout: 180_000, ...over }) as never;

  it('names both regions, simple routing and a deployment that can rebuild', async () => {
    await expect(failback(ctx(), step({ drRegion: 'us-west-2' }))).rejects.toMatchObject({ code: 'REGION_SAME', kind: 'input' });
    await expect(failback(ctx(), step({ primaryRegion: 'eu-west-1' }))).rejects.toMatchObject({ code: 'REGION_UNKNOWN' });
    await expect(failback(ctx({ routing: 'failover' }), step())).rejects.toMatchObject({ code: 'FAILBACK_NEEDS_SIMPLE_ROUTING' });
    // A provider without the capability (external): the machine cannot do it, exit 3, saying what to use.
    await expect(failback(ctx({ provider: 'external', rebuild: false }), step())).rejects.toMatchObject({ code: 'FAILBACK_NEEDS_NATIVE', kind: 'environment', message: expect.stringMatching(/provider: native/) });
  });
});
