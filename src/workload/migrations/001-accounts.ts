import type { SchemaMigration } from './schema-migration.js';

// Migrations are history: they spell out table names instead of importing constants, so a later
// rename in the code can never change what an old migration did.
export const accounts: SchemaMigration = {
  name: '001-accounts',
  description: 'accounts with a non-negative balance',
  async up(c) {
    await c.query(`
      create table accounts (
        id bigint primary key,
        owner text not null,
        balance numeric(14,2) not null check (balance >= 0)
      )`);
  },
  async down(c) {
    await c.query('drop table accounts');
  },
};
