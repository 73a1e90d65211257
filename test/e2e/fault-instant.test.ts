import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { leftovers, readJournal, ROOT, runCli, runDirFrom } from './helpers.js';
import { expectConservativeRto } from './rto-evidence.js';

const reportsDir = mkdtempSync(path.join(os.tmpdir(), 'drill-e2e-fault-instant-'));
afterAll(() => rmSync(reportsDir, { recursive: true, force: true }));

describe('T_fault is when the fault is in effect (real PostgreSQL, real CLI)', () => {
  it('a probe every 20 ms never meets the damaged page before T_fault, and meets it right after', async () => {
    const result = await runCli(['run', path.join(ROOT, 'test/fixtures/scenarios/index-page-damage-fast-probe.yaml'), '--reports-dir', reportsDir]);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const runDir = runDirFrom(result.stdout, reportsDir);
    const journal = readJournal(runDir);
    const tFault = journal.marks.tFault!.t;
    const damaged = (error: string | undefined) => /invalid page in block 1 of relation/.test(error ?? '');

    // Before: what the probe saw while the injector worked is the harness's restart, never the damage.
    expect(journal.probes.filter((p) => p.t < tFault && damaged(p.error))).toEqual([]);
    // After: the first failure is the damage itself (the probes were held during the restart, so
    // no refused connection stands in for it), and detection names it.
    const firstFailure = journal.probes.find((p) => p.t >= tFault && !p.ok);
    expect(damaged(firstFailure?.error), firstFailure?.error).toBe(true);
    expect(journal.verdicts.find((v) => v.check === 'detection')?.message).toMatch(/invalid page in block 1/);
    // The injector saw the server back after it was restarted, before it returned.
    const inject = journal.phases.find((p) => p.name === 'inject')!;
    expect(tFault).toBeGreaterThan(inject.start.t);
    expect(tFault).toBeLessThan(inject.end!.t);
    expectConservativeRto(journal, 'reindex');
    expect(leftovers(runDir)).toEqual([]);
  });
});
