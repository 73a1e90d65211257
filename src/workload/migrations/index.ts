import { accounts } from './001-accounts.js';
import { transfers } from './002-transfers.js';
import { canary } from './003-canary.js';
import { transferReference } from './004-transfer-reference.js';
import { apiTokens } from './005-api-tokens.js';
import { backgroundJobs } from './006-background-jobs.js';
import { serviceTransferIds } from './007-service-transfer-ids.js';
import type { SchemaMigration } from './schema-migration.js';

/**
 * The migrations of the release the drill deploys, oldest first. 005-007 are the schema of the
 * service under drill (sut/truststream); its releases name the newest one they need
 * (CURRENT_SCHEMA_VERSION in sut/truststream/src/releases.ts, checked by its tests).
 */
export const RELEASE_MIGRATIONS: readonly SchemaMigration[] = [accounts, transfers, canary, transferReference, apiTokens, backgroundJobs, serviceTransferIds];

export type { SchemaMigration } from './schema-migration.js';
export { versionOf } from './schema-migration.js';
