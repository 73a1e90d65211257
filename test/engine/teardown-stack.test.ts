import { describe, expect, it } from 'vitest';
import { TeardownStack } from '../../src/engine/teardown-stack.js';
import { exitCodeFor, suiteExitCode, worstStatus } from '../../src/engine/status.js';

describe('teardown stack', () => {
  it('runs in reverse order and keeps going past a failing teardown', async () => {
    const stack = new TeardownStack();
    const ran: string[] = [];
    stack.push('first', () => void ran.push('first'));
    stack.push('broken', () => {
      throw new Error('boom');
    });
    stack.push('last', async () => void ran.push('last'));
    const failures = await stack.runAll();
    expect(ran).toEqual(['last', 'first']);
    expect(failures).toEqual([{ title: 'broken', message: 'boom' }]);
    expect(stack.size).toBe(0);
  });
});

describe('teardown stack timeouts', () => {
  it('a hung teardown is recorded as failed and the rest still run', async () => {
    const stack = new TeardownStack(50);
    const ran: string[] = [];
    stack.push('first', () => void ran.push('first'));
    stack.push('hangs', () => new Promise<void>(() => undefined));
    const failures = await stack.runAll();
    expect(ran).toEqual(['first']);
    expect(failures).toEqual([{ title: 'hangs', message: 'did not finish within 50 ms' }]);
  });
});

describe('exit codes (DESIGN.md section 6)', () => {
  it('maps each status to its code', () => {
    expect(['passed', 'failed', 'invalid-input', 'environment-error', 'interrupted'].map((s) => exitCodeFor(s as never))).toEqual([0, 1, 2, 3, 130]);
  });
  it('the worst status of several drills decides', () => {
    expect(worstStatus([])).toBe('passed');
    expect(worstStatus(['passed', 'failed'])).toBe('failed');
    expect(worstStatus(['failed', 'environment-error', 'passed'])).toBe('environment-error');
    expect(worstStatus(['environment-error', 'interrupted'])).toBe('interrupted');
    expect(worstStatus(['failed', 'invalid-input'])).toBe('invalid-input');
    expect(worstStatus(['invalid-input', 'environment-error'])).toBe('environment-error');
  });

  it('a suite exits 2 only for one refused drill; mid-suite a refusal is exit 3 (3 > 1 > 0)', () => {
    expect(suiteExitCode(['invalid-input'])).toBe(2);
    expect(suiteExitCode(['failed', 'invalid-input'])).toBe(3);
    expect(suiteExitCode(['passed', 'invalid-input'])).toBe(3);
    expect(suiteExitCode(['passed', 'failed'])).toBe(1);
    expect(suiteExitCode(['passed', 'passed'])).toBe(0);
    expect(suiteExitCode(['invalid-input', 'interrupted'])).toBe(130);
    expect(suiteExitCode([])).toBe(0);
  });
});
