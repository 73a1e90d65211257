import { accounts } from './001-accounts.js';
import { transfers } from './002-transfers.js';
import { canary } from './003-canary.js';
import { transferReference } from './004-transfer-reference.js';
import type { SchemaMigration } from './schema-migration.js';

/** The migrations of the release the drill deploys, oldest first. */
export const RELEASE_MIGRATIONS: readonly SchemaMigration[] = [accounts, transfers, canary, transferReference];

export type { SchemaMigration } from './schema-migration.js';
export { versionOf } from './schema-migration.js';
