import type { ActivityRecord, Journal } from '../journal-types.js';
import { rollbackMessage } from '../../notify/drill-messages.js';
import { formatDuration } from '../../scenario/duration.js';
import { ROLLBACK_STEPS } from '../../scenario/rollback-steps.js';
import type { RecoveryStep } from '../../scenario/schema.js';
import type { DrillRun } from './drill-run.js';

const MAX_DETAIL = 300;

/**
 * With notifications.on: rollback, a rollback step that ended sends "Rollback successful" or
 * "Rollback failed, escalating" (severity raised) at once; like every message it is handed to the
 * channels and not awaited, so the next step is not delayed.
 */
export function announceRollback(run: DrillRun, step: RecoveryStep, title: string, failure?: { message: string }): void {
  const notifier = run.context.notifier;
  if (!ROLLBACK_STEPS.has(step.step) || !notifier.sendsOn('rollback')) return;
  const record = [...run.journal.steps].reverse().find((s) => s.name === step.step);
  if (!rollbackRan(run.journal, record, failure !== undefined)) return;
  const took = record?.end ? ` in ${formatDuration(record.end.t - record.start.t)}` : '';
  const detail = failure ? clip(failure.message) : `${title} passed${took}${movedText(record?.output)}`;
  notifier.send('rollback', (now) =>
    rollbackMessage(run.journal, {
      incidentId: notifier.incidentId(now),
      step: step.step,
      title,
      environment: environmentOf(run, step),
      outcome: failure ? 'failed' : 'succeeded',
      detail,
    }),
  );
}

/**
 * Whether the step rolled anything back: auto-rollback.sh announces only a rollback it ran, not
 * "Health check passed, no rollback needed", and an untripped circuit breaker runs none. Its
 * `auto-rollback` events (rollbackNeeded) survive a failed step, whose output is gone.
 */
export function rollbackRan(journal: Pick<Journal, 'events'>, record: ActivityRecord | undefined, failed: boolean): boolean {
  if (!failed) return record?.output?.rollbackNeeded !== false;
  if (record?.name !== 'k8s-auto-rollback' && record?.name !== 'k8s-circuit-breaker') return true;
  const since = record.start.t;
  return journal.events.some((e) => e.kind === 'auto-rollback' && e.t >= since && e.data?.rollbackNeeded === true);
}

/** The --environment: what the rollback acted on. */
function environmentOf(run: DrillRun, step: RecoveryStep): string {
  if (step.step === 'migration-rollback') return `PostgreSQL ${run.context.router.current.name}`;
  const deployments = (step as { deployments?: unknown }).deployments;
  return Array.isArray(deployments) && deployments.length > 0 ? `Kubernetes deployment(s) ${deployments.join(', ')}` : 'Kubernetes';
}

function movedText(output: Record<string, unknown> | undefined): string {
  if (!output || output.from === undefined || output.to === undefined) return '';
  return ` (from ${String(output.from)} to ${String(output.to)})`;
}

function clip(text: string): string {
  return text.length > MAX_DETAIL ? `${text.slice(0, MAX_DETAIL)}…` : text;
}
