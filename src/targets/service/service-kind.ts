import path from 'node:path';
import type { TargetKind } from '../target-kind.js';
import { targetMissing } from '../target-parts.js';
import { provisionService } from './provision-service.js';

/** `targets.service`: the service under drill as plain processes, against the drill's database. */
export const serviceKind: TargetKind<'service'> = {
  // Its database, API token and reader role are the drill database's (the loader requires targets.postgres).
  after: ['postgres', 'network'],
  provides: ['service'],
  // A directory per launch and one process per instance.
  records: ['temp-dir', 'process'],
  async provision(spec, env, provided) {
    const router = provided.router;
    if (!router) throw targetMissing('router', "targets.service, which runs against the drill's PostgreSQL");
    const service = await provisionService(spec, {
      runId: env.runId,
      ledger: env.ledger,
      teardown: env.teardown,
      recorder: env.recorder,
      signal: env.signal,
      // Through the network link when targets.network puts one in front of the database.
      database: () => router.applicationConnection,
      ...(env.runDir ? { logDir: path.join(env.runDir, 'service-logs') } : {}),
    });
    return { service };
  },
};
