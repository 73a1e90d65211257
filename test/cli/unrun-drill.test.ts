import { afterEach, describe, expect, it, vi } from 'vitest';
import { unrunDrillEntry } from '../../src/cli/unrun-drill.js';
import { reportsDirError } from '../../src/cli/reports-dir.js';
import { EnvironmentError, InterruptedError } from '../../src/engine/errors.js';
import { scenarioRedactor } from '../../src/report/redactor.js';

const SECRET = 'tok-3f9a1c77e2b84d05';
const facts = { scenario: 'later-drill', file: 'drills/later-drill.yaml', durationMs: 5 };

afterEach(() => vi.restoreAllMocks());

function printed(run: () => void): string {
  const lines: string[] = [];
  vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void lines.push(args.join(' ')));
  run();
  return lines.join('\n');
}

describe('a drill of a suite the CLI could not run', () => {
  it('an input-kind error (its run dir in the way) counts as an environment error once the suite started: exit 3, no "Nothing was started"', () => {
    const error = reportsDirError(Object.assign(new Error('not a directory'), { code: 'ENOTDIR' }), 'reports/20261202T100000Z-later-drill');
    // The negative control: before the suite starts, the same error is input (exit 2) and says so.
    expect(error.kind).toBe('input');
    expect(error.message).toMatch(/Nothing was started\.$/);
    let entry!: ReturnType<typeof unrunDrillEntry>;
    const output = printed(() => (entry = unrunDrillEntry(error, facts, scenarioRedactor({}))));
    expect([entry.status, entry.exitCode, entry.error?.code]).toEqual(['environment-error', 3, 'REPORTS_DIR_INVALID']);
    expect(entry.error?.message).toMatch(/^--reports-dir reports\/20261202T100000Z-later-drill: is a file, or a path through a file, not a directory; give a directory/);
    expect(entry.error?.message).not.toMatch(/Nothing was started/);
    expect(output).not.toMatch(/Nothing was started/);
    expect(output).toMatch(/\(REPORTS_DIR_INVALID\)/);
  });

  it('its message, printed and in the summary, goes through the scenario\'s Redactor', () => {
    const redactor = scenarioRedactor({ HOOK_TOKEN: SECRET });
    for (const error of [new EnvironmentError('EVIDENCE_UNWRITABLE', `cannot write evidence for https://hooks.example.test/${SECRET}`), new Error(`unexpected ${SECRET}`)]) {
      let entry!: ReturnType<typeof unrunDrillEntry>;
      const output = printed(() => (entry = unrunDrillEntry(error, facts, redactor)));
      expect(output).toMatch(/\[REDACTED\]/);
      expect(output).not.toContain(SECRET);
      expect(entry.error?.message).not.toContain(SECRET);
      expect(entry.status).toBe('environment-error');
    }
  });

  it('an interruption stays one (exit 130)', () => {
    let entry!: ReturnType<typeof unrunDrillEntry>;
    printed(() => (entry = unrunDrillEntry(new InterruptedError(), facts, scenarioRedactor({}))));
    expect([entry.status, entry.exitCode]).toEqual(['interrupted', 130]);
  });
});
