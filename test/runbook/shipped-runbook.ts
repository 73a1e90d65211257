import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { parseRunbook } from '../../src/runbook/parse-runbook.js';
import type { Runbook } from '../../src/runbook/types.js';

/**
 * The runbook the project drills, in shared/ beside the repository (as in CI, a clone with shared/
 * beside it); DRILL_SHARED_DIR points elsewhere (a git worktree kept in another folder). Read-only:
 * tests never write it; edits go to temp copies.
 */
export const SHARED_DIR = process.env.DRILL_SHARED_DIR ?? path.resolve(import.meta.dirname, '../../../shared');
export const SHIPPED_RUNBOOK = path.join(SHARED_DIR, 'runbook/truststream-rollback-dr-procedures.md');
export function shippedText(): string {
  if (!existsSync(SHIPPED_RUNBOOK)) {
    throw new Error(`the shipped runbook is not at ${SHIPPED_RUNBOOK}: the tests expect shared/ beside the repository (as in CI), or DRILL_SHARED_DIR naming it`);
  }
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
