import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { parseRunbook } from '../../src/runbook/parse-runbook.js';
import type { Runbook } from '../../src/runbook/types.js';

const REPO_ROOT = path.resolve(import.meta.dirname, '../..');
/** A copy of the runbook kept with the tests, for a clone without shared/ beside it. */
export const RUNBOOK_COPY = path.join(REPO_ROOT, 'test/fixtures/runbook/truststream-rollback-dr-procedures.md');

/**
 * The runbook the project drills: in shared/ beside the repository (DRILL_SHARED_DIR points
 * elsewhere, e.g. for a git worktree kept in another folder); where neither is there, the copy kept
 * with the tests (runbook-copy.test.ts fails when the copy and shared/ differ, so it cannot drift
 * unnoticed). Read-only: tests never write it; edits go to temp copies.
 */
export const SHARED_DIR = process.env.DRILL_SHARED_DIR ?? path.resolve(REPO_ROOT, '../shared');
export const SHARED_RUNBOOK = path.join(SHARED_DIR, 'runbook/truststream-rollback-dr-procedures.md');
export const SHIPPED_RUNBOOK = existsSync(SHARED_RUNBOOK) ? SHARED_RUNBOOK : RUNBOOK_COPY;
export function shippedText(): string {
  return readFileSync(SHIPPED_RUNBOOK, 'utf8');
}

export function parsed(text: string, file = 'runbook.md'): Runbook {
  const result = parseRunbook(text, file, createHash('sha256').update(text).digest('hex'));
  if (!result.ok) throw new Error(`runbook problems: ${JSON.stringify(result.problems)}`);
  return result.runbook;
}

export const shippedRunbook = (): Runbook => parsed(shippedText(), SHIPPED_RUNBOOK);

/** Well-known ids of the shipped runbook. */
export const IDS = {
  option1: 'emergency-rollback-procedures/rollback-execution-5-15-minutes/option-1-kubernetes-rolling-rollback',
  option3: 'emergency-rollback-procedures/rollback-execution-5-15-minutes/option-3-dns-failover-multi-region',
  scenario2: 'disaster-recovery-scenarios/scenario-2-database-corruption',
  scenario3: 'disaster-recovery-scenarios/scenario-3-security-breach',
  dataRecovery: 'disaster-recovery-scenarios/scenario-2-database-corruption/data-recovery',
  consistency: 'recovery-validation/data-integrity-verification/data-consistency-checks',
  postRecovery: 'recovery-validation/post-recovery-testing',
} as const;
