import type { SchemaMigration } from './schema-migration.js';

/**
 * The service's API tokens: only the sha256 of a token is stored; a revoked token keeps its row
 * (revoked_at set) for the audit trail. One active token per name, so operators revoke by name.
 */
export const apiTokens: SchemaMigration = {
  name: '005-api-tokens',
  description: 'api_tokens: bearer tokens stored as sha256, revocable',
  async up(c) {
    await c.query(`
      create table api_tokens (
        id bigint generated always as identity primary key,
        name text not null,
        token_sha256 text not null unique check (token_sha256 ~ '^[0-9a-f]{64}$'),
        created_at timestamptz not null default clock_timestamp(),
        revoked_at timestamptz
      );
      create unique index api_tokens_active_name_idx on api_tokens(name) where revoked_at is null`);
  },
  async down(c) {
    await c.query('drop table api_tokens');
  },
};
