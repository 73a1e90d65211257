import type { SchemaMigration } from './schema-migration.js';

export const transfers: SchemaMigration = {
  name: '002-transfers',
  description: 'transfers between accounts: foreign keys both ways, indexed',
  async up(c) {
    await c.query(`
      create table transfers (
        id bigint primary key,
        from_account bigint not null references accounts(id),
        to_account bigint not null references accounts(id),
        amount numeric(14,2) not null check (amount > 0),
        created_at timestamptz not null
      );
      create index transfers_from_idx on transfers(from_account);
      create index transfers_to_idx on transfers(to_account)`);
  },
  async down(c) {
    await c.query('drop table transfers');
  },
};
