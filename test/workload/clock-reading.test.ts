import { describe, expect, it } from 'vitest';
import { misstampedWrites, wallOrigin } from '../../src/assertions/ledger-timestamps.js';
import type { CanaryAck } from '../../src/engine/journal-types.js';
import { childEnvironment } from '../../src/targets/service/service-environment.js';
import { fakeTimeVariables, requireLibfaketime } from '../../src/targets/process/libfaketime.js';
import { allowsOffset, certainSkewMs, clockOffsetBounds } from '../../src/workload/clock-reading.js';
import { checkClock } from '../../src/workload/probes/clock-check.js';

const T = Date.parse('2026-12-02T13:00:00.000Z');
const header = (ms: number) => new Date(ms).toUTCString();

describe('a Date header as a reading of the answering clock', () => {
  it('brackets the offset between the answer and the sending, plus the header resolution', () => {
    // Sent at T, answered 50 ms later, header says T + 2h (truncated to the second).
    const bounds = clockOffsetBounds(header(T + 7_200_000), T, T + 50)!;
    expect(bounds.lowMs).toBe(7_200_000 - 50);
    expect(bounds.highMs).toBe(7_200_000 + 1100);
    expect(allowsOffset(bounds, 7_200_000)).toBe(true);
    expect(allowsOffset(bounds, 7_000_000)).toBe(false);
    expect(clockOffsetBounds(null, T, T)).toBeUndefined();
    expect(clockOffsetBounds('yesterday-ish', T, T)).toBeUndefined();
  });

  it('reports the skew nearest zero that the reading proves, and none within the tolerance', () => {
    expect(certainSkewMs(clockOffsetBounds(header(T + 7_200_000), T, T + 50)!, 5000)).toBe(7_200_000 - 50);
    expect(certainSkewMs(clockOffsetBounds(header(T - 600_000), T, T + 50)!, 5000)).toBe(-600_000 + 1100);
    // A true clock, and one 3 s off, pass a 5 s tolerance; a slow answer does not make a skew.
    expect(certainSkewMs(clockOffsetBounds(header(T + 400), T, T + 900)!, 5000)).toBe(0);
    expect(certainSkewMs(clockOffsetBounds(header(T + 3000), T, T + 50)!, 5000)).toBe(0);
    expect(certainSkewMs(clockOffsetBounds(header(T), T, T + 4000)!, 1000)).toBe(0);
  });

  it('the probe check fails naming the skew, the endpoint and the tolerance; a missing header fails too', () => {
    expect(() => checkClock(header(T + 7_200_000), T, T + 50, 5000, 'truststream-api-1 /health')).toThrow(
      /clock skew: truststream-api-1 \/health answered Date: .*, at least \+1h59m59\.95s ahead of the drill's clock \(maxClockSkew 5s\)/,
    );
    expect(() => checkClock(header(T - 600_000), T, T + 50, 5000, 'x')).toThrow(/behind the drill's clock/);
    expect(() => checkClock(null, T, T + 50, 5000, 'x')).toThrow(/no Date header from x/);
    expect(() => checkClock(header(T), T, T + 50, 5000, 'x')).not.toThrow();
  });
});

describe('libfaketime for one child', () => {
  it('is found, or the error names the package (exit 3)', () => {
    expect(() => requireLibfaketime({}, ['/nonexistent/libfaketime.so.1'])).toThrow(expect.objectContaining({ code: 'LIBFAKETIME_MISSING', kind: 'environment', message: expect.stringMatching(/install the faketime package \(Debian\/Ubuntu: sudo apt-get install faketime\)/) }));
    expect(() => requireLibfaketime({ DRILL_LIBFAKETIME: '/nonexistent/libfaketime.so.1' })).toThrow(/looked for in \/nonexistent\/libfaketime\.so\.1\)/);
  });

  it('goes into that child\'s environment only when skewed: offset in seconds, monotonic clocks true', () => {
    expect(fakeTimeVariables('/lib/f.so.1', -600_000)).toEqual({ LD_PRELOAD: '/lib/f.so.1', FAKETIME: '-600', FAKETIME_DONT_FAKE_MONOTONIC: '1' });
    const base = { databaseUrl: 'postgres://u@127.0.0.1/d', version: '4.4.0' };
    const plain = childEnvironment('api', 8080, base, '/bin');
    expect(Object.keys(plain).some((k) => k.startsWith('FAKETIME') || k === 'LD_PRELOAD')).toBe(false);
    const skewed = childEnvironment('api', 8080, { ...base, fakeTime: { library: '/lib/f.so.1', offsetMs: 7_200_000 } }, '/bin');
    expect(skewed).toMatchObject({ LD_PRELOAD: '/lib/f.so.1', FAKETIME: '+7200', FAKETIME_DONT_FAKE_MONOTONIC: '1', MODE: 'api' });
  });
});

describe('acknowledged writes stamped outside their own request (the ledger check)', () => {
  const origin = T;
  const ack = (id: number, sentMs: number, tAck: number, stampedMs: number): CanaryAck => ({
    id,
    epoch: 1,
    checksum: 'c',
    tAck,
    clientWall: new Date(sentMs).toISOString(),
    serverWall: new Date(stampedMs).toISOString(),
  });

  it('passes stamps inside the request (and a little outside: another host\'s clock), fails those a skewed clock wrote', () => {
    const good = [ack(1, T + 1000, 1100, T + 1050), ack(2, T + 2000, 2100, T + 2000 + 4000)];
    const rows = (acks: CanaryAck[]) => acks.map((a) => ({ id: a.id, epoch: a.epoch, checksumOk: true }));
    expect(misstampedWrites(good, rows(good), origin).count).toBe(0);
    const skewed = [...good, ack(3, T + 3000, 3100, T + 3050 + 7_200_000), ack(4, T + 4000, 4100, T + 4050 + 7_200_000), ack(5, T + 5000, 5100, T + 5000 - 600_000)];
    const found = misstampedWrites(skewed, rows(skewed), origin);
    expect(found.count).toBe(3);
    expect(found.writes).toMatchObject([{ epoch: 1, ranges: [[3, 5]] }]);
    expect(found.worstMs).toBe(7_200_000 - 50);
    // What is stored decides: a row re-stamped since its acknowledgement passes; a lost write is the RPO's.
    const restamped = rows(skewed).map((r) => (r.id >= 3 ? { ...r, committedAt: new Date(T + r.id * 1000 + 50).toISOString() } : r));
    expect(misstampedWrites(skewed, restamped, origin).count).toBe(0);
    expect(misstampedWrites(skewed, rows(good), origin).count).toBe(0);
  });

  it('takes the wall origin from the first phase', () => {
    expect(wallOrigin({ phases: [{ name: 'provision', start: { t: 250, wall: new Date(T + 250).toISOString() } }] as never })).toBe(T);
    expect(wallOrigin({ phases: [] })).toBeUndefined();
  });
});
