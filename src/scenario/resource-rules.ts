import type { PathIssue } from './issues.js';
import { isRecord } from './schema-walk.js';

const RESOURCE_FAULTS = new Set(['cpu-stress', 'memory-stress']);

/**
 * Cross-key rules of the resource-pressure vocabulary (resource-schema.ts; see rules.ts for why
 * they are not zod refinements): the drill moves the server's processes into a cgroup of this
 * machine, so only the native provider; remove-resource-limit lifts only what such a fault set, so
 * it needs one; killWithin means something only with mode: oom-kill.
 */
export function resourceIssues(data: unknown): PathIssue[] {
  if (!isRecord(data)) return [];
  const issues: PathIssue[] = [];
  const postgres = isRecord(data.targets) && isRecord(data.targets.postgres) ? data.targets.postgres : undefined;
  const faults = Array.isArray(data.faults) ? data.faults : [];
  let stressed = false;
  faults.forEach((fault, i) => {
    if (!isRecord(fault) || typeof fault.type !== 'string' || !RESOURCE_FAULTS.has(fault.type)) return;
    stressed = true;
    if (postgres && postgres.provider !== 'native') {
      issues.push({
        path: ['faults', i, 'type'],
        anchor: 'value',
        message: `${fault.type} moves the server's processes into a cgroup of this machine, which only the native provider runs them on; set targets.postgres.provider: native (now ${String(postgres.provider ?? 'auto')})`,
      });
    }
    if (fault.type === 'memory-stress' && fault.killWithin !== undefined && fault.mode !== 'oom-kill') {
      issues.push({ path: ['faults', i, 'killWithin'], anchor: 'key', message: 'killWithin bounds the wait for an OOM kill: use it with mode: oom-kill, or remove it' });
    }
  });
  if (!stressed && Array.isArray(data.recovery)) {
    data.recovery.forEach((step, i) => {
      if (!isRecord(step) || step.step !== 'remove-resource-limit') return;
      issues.push({
        path: ['recovery', i, 'step'],
        anchor: 'value',
        message: 'remove-resource-limit lifts the limit a cpu-stress or memory-stress fault set: add one of those faults, or remove this step',
      });
    });
  }
  return issues;
}
