import { describe, expect, it } from 'vitest';
import { verdictDifferences, type DrillResult } from '../../bench/gate-verdicts.js';

const drill = (file: string, status: string, exitCode: number | undefined, failedChecks: string[] = []): DrillResult => ({
  scenario: file.replace(/\.yaml$/, ''),
  file,
  status,
  ...(exitCode !== undefined ? { exitCode } : {}),
  failedChecks,
});

describe('bench:gate, the parallel pass must not change a verdict', () => {
  it('the same results in both passes: no difference, whatever the order', () => {
    const a = [drill('a.yaml', 'passed', 0), drill('b.yaml', 'failed', 1, ['rto', 'rpo'])];
    const b = [drill('b.yaml', 'failed', 1, ['rpo', 'rto']), drill('a.yaml', 'passed', 0)];
    expect(verdictDifferences(a, b)).toEqual([]);
  });

  it('another status, exit code or failed check is a difference', () => {
    const a = [drill('a.yaml', 'passed', 0), drill('b.yaml', 'failed', 1, ['rto']), drill('c.yaml', 'failed', 1, ['rto'])];
    const b = [drill('a.yaml', 'environment-error', 3), drill('b.yaml', 'failed', 1, ['rto', 'integrity']), drill('c.yaml', 'failed', 1, ['rto'])];
    expect(verdictDifferences(a, b)).toEqual([
      { file: 'a.yaml', sequential: 'passed exit 0 failed []', parallel: 'environment-error exit 3 failed []' },
      { file: 'b.yaml', sequential: 'failed exit 1 failed [rto]', parallel: 'failed exit 1 failed [integrity,rto]' },
    ]);
  });

  it('a drill only one pass ran (not run, or missing) is a difference', () => {
    const a = [drill('a.yaml', 'passed', 0), drill('b.yaml', 'passed', 0)];
    const b = [drill('a.yaml', 'passed', 0), drill('b.yaml', 'not-run', undefined)];
    expect(verdictDifferences(a, b)).toEqual([{ file: 'b.yaml', sequential: 'passed exit 0 failed []', parallel: 'not-run exit - failed []' }]);
    expect(verdictDifferences(a, [a[0]!])).toEqual([{ file: 'b.yaml', sequential: 'passed exit 0 failed []', parallel: 'absent' }]);
  });
});
