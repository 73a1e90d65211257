import type { SchemaMigration } from './schema-migration.js';

/** The table the canary writer (the application's write path in a drill) commits to. */
export const canary: SchemaMigration = {
  name: '003-canary',
  description: 'drill_canary: sequence-numbered writes with payload checksums',
  async up(c) {
    await c.query(`
      create table drill_canary (
        id bigint primary key,
        epoch int not null,
        payload text not null,
        checksum text not null,
        client_ts timestamptz not null,
        server_ts timestamptz not null default clock_timestamp()
      )`);
  },
  async down(c) {
    await c.query('drop table drill_canary');
  },
};
