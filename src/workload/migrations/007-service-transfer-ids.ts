import type { SchemaMigration } from './schema-migration.js';

/**
 * Ids of transfers the service creates come from this sequence, from 1 000 000 000 up: the seeded
 * data set uses ids below that, so the harness can always tell seed rows (checked for integrity,
 * never changed) from rows the workload wrote through the API.
 */
export const serviceTransferIds: SchemaMigration = {
  name: '007-service-transfer-ids',
  description: 'service_transfer_id_seq: ids of service-created transfers start at 1e9',
  async up(c) {
    await c.query('create sequence service_transfer_id_seq as bigint start with 1000000000 minvalue 1000000000');
  },
  async down(c) {
    await c.query('drop sequence service_transfer_id_seq');
  },
};
