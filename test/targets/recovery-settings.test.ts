import { describe, expect, it } from 'vitest';
import { postgresTimestamp, recoverySettings } from '../../src/targets/postgres/recovery-settings.js';

describe('recovery settings', () => {
  it('writes ISO times with a numeric offset PostgreSQL accepts at start-up', () => {
    expect(postgresTimestamp('2026-11-27T08:52:09.399Z')).toBe('2026-11-27 08:52:09.399+00');
    expect(postgresTimestamp('2026-11-27T10:52:09+02:00')).toBe('2026-11-27 08:52:09.000+00');
    expect(postgresTimestamp('2025-09-21 12:00:00')).toBe('2025-09-21 12:00:00');
    expect(recoverySettings('/a', { kind: 'time', time: '2026-01-01T00:00:00Z' }).recovery_target_time).toBe('2026-01-01 00:00:00.000+00');
  });
});
