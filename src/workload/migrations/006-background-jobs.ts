import type { SchemaMigration } from './schema-migration.js';

/**
 * What the service's worker and scheduler work on. `transfer_queue` is an outbox the API writes in
 * the transaction of each transfer and the worker marks processed; it has no foreign key to
 * transfers on purpose, so it never blocks a change to the data set (the worker reports a missing
 * transfer instead). `service_heartbeats`: the scheduler's proof of life.
 */
export const backgroundJobs: SchemaMigration = {
  name: '006-background-jobs',
  description: 'transfer_queue (the worker consumes it) and service_heartbeats (the scheduler writes them)',
  async up(c) {
    await c.query(`
      create table transfer_queue (
        id bigint generated always as identity primary key,
        transfer_id bigint not null unique,
        enqueued_at timestamptz not null default clock_timestamp(),
        processed_at timestamptz,
        processed_by text,
        outcome text,
        stale_at timestamptz
      );
      create index transfer_queue_pending_idx on transfer_queue(id) where processed_at is null;
      create table service_heartbeats (
        component text not null,
        instance text not null,
        version text not null,
        beat_at timestamptz not null,
        primary key (component, instance)
      )`);
  },
  async down(c) {
    await c.query('drop table service_heartbeats; drop table transfer_queue');
  },
};
