import { z } from 'zod';

/**
 * `restoresService` on a recovery step: the runbook step that brings the service back (e.g.
 * switch-workload after a restore). RTO's restored instant is never before it ends: until then the
 * runbook has not finished restoring the service (writes may still be stopped) even if the probes,
 * which only read, already pass. Shared by the steps of both schema files.
 */
export const restoresService = z
  .boolean()
  .optional()
  .meta({ description: 'This step restores the service: RTO is never measured before it ends (e.g. switch-workload after a restore). Default false' });
