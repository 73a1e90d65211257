import type { GateDrillSplit } from './gate-split.js';

/** One drill of one pass of bench/gate.ts: its result as summary.json has it, and its split when it left a journal. */
export interface DrillResult {
  scenario: string;
  file: string;
  status: string;
  exitCode?: number;
  failedChecks: string[];
  error?: string;
  split?: GateDrillSplit;
}

/**
 * The drills whose result is not the same in the sequential and the parallel pass: status, exit
 * code or failed checks (timings may differ, verdicts must not), or a drill one pass has and the
 * other does not. Empty when `--parallel` changed no verdict.
 */
export function verdictDifferences(sequential: DrillResult[], parallel: DrillResult[]): Array<{ file: string; sequential: string; parallel: string }> {
  const key = (d: DrillResult) => `${d.status} exit ${d.exitCode ?? '-'} failed [${[...d.failedChecks].sort().join(',')}]`;
  const files = [...new Set([...sequential, ...parallel].map((d) => d.file))];
  return files
    .map((file) => ({ file, a: sequential.find((d) => d.file === file), b: parallel.find((d) => d.file === file) }))
    .filter(({ a, b }) => !a || !b || key(a) !== key(b))
    .map(({ file, a, b }) => ({ file, sequential: a ? key(a) : 'absent', parallel: b ? key(b) : 'absent' }));
}
