import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RUNBOOK_COPY, SHARED_RUNBOOK } from './shipped-runbook.js';

describe('the runbook copy kept with the tests', () => {
  // Where shared/ is beside the repository the tests read it; the copy is for clones without it.
  it.skipIf(!existsSync(SHARED_RUNBOOK))('is the runbook in shared/, byte for byte (copy it again when the runbook changes)', () => {
    expect(readFileSync(RUNBOOK_COPY, 'utf8')).toBe(readFileSync(SHARED_RUNBOOK, 'utf8'));
  });
});
