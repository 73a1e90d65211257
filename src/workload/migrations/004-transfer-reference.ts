import type { SchemaMigration } from './schema-migration.js';

/**
 * What a later release adds to a table that already holds data: a column, backfilled, then
 * indexed. Its down step drops the column and so loses the references: rolling back past it is
 * not free, which the negative-control drill relies on.
 */
export const transferReference: SchemaMigration = {
  name: '004-transfer-reference',
  description: 'transfers.reference: a unique human-readable reference, backfilled from the id',
  async up(c) {
    await c.query(`
      alter table transfers add column reference text;
      update transfers set reference = 'TR-' || lpad(id::text, 8, '0') where reference is null;
      create unique index transfers_reference_idx on transfers(reference)`);
  },
  async down(c) {
    await c.query('alter table transfers drop column reference');
  },
};
