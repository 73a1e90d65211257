import { describe, expect, it } from 'vitest';
import { formatDuration, formatDurationBound } from '../../src/scenario/duration.js';

describe('formatDuration', () => {
  it('rounds once, then splits: never "60s" or "1000ms"', () => {
    expect(formatDuration(930)).toBe('930ms');
    expect(formatDuration(999.6)).toBe('1s');
    expect(formatDuration(1234)).toBe('1.2s');
    expect(formatDuration(59_960)).toBe('1m');
    expect(formatDuration(119_960)).toBe('2m');
    expect(formatDuration(61_000)).toBe('1m1s');
    expect(formatDuration(3_599_990)).toBe('1h');
    expect(formatDuration(0)).toBe('0ms');
  });
});

describe('formatDurationBound', () => {
  it('rounds the safe way: an upper bound up, a lower bound down', () => {
    expect(formatDurationBound(1187, 'up')).toBe('1.19s');
    expect(formatDurationBound(1187, 'down')).toBe('1.18s');
    expect(formatDurationBound(59_999, 'up')).toBe('1m');
    expect(formatDurationBound(59_999, 'down')).toBe('59.99s');
  });
});
