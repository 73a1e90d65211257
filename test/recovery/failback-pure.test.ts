import { describe, expect, it } from 'vitest';
import { replayReached } from '../../src/recovery/failback.js';
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
