import { suggestProcedureId } from '../runbook/procedure-ids.js';
import type { Runbook } from '../runbook/types.js';
import type { PathIssue } from './issues.js';
import { isRecord } from './schema-walk.js';

/** The keys that only mean something on a step a person takes part in. */
const MANUAL_ONLY = ['manualTimeout', 'instructions', 'procedure'] as const;

/**
 * Game-day rules (`manual:` steps). `gameDay` is how the drill is run: false for a plain `drill
 * run`, which cannot perform a `manual` step (only a person can); undefined when the file is only
 * checked (`drill validate`), where both ways are still open.
 */
export function manualIssues(data: unknown, options: { gameDay?: boolean; runbook?: Runbook }): PathIssue[] {
  if (!isRecord(data)) return [];
  const issues: PathIssue[] = [];
  const recovery = Array.isArray(data.recovery) ? data.recovery : [];
  recovery.forEach((step, i) => {
    if (!isRecord(step)) return;
    if (step.step === 'manual' && options.gameDay === false) {
      issues.push({
        path: ['recovery', i, 'step'],
        anchor: 'value',
        message: `a manual step is work a person does outside drill, so a plain run cannot perform it: run with --game-day (drill waits for \`drill continue\`), or remove the step`,
      });
    }
    if (step.step !== 'manual' && step.manual !== true) {
      for (const key of MANUAL_ONLY) {
        if (step[key] !== undefined) issues.push({ path: ['recovery', i, key], anchor: 'key', message: `${key} is only used by a step a person takes part in: add \`manual: true\` or remove ${key}` });
      }
    }
    if (options.runbook && typeof step.procedure === 'string' && !options.runbook.procedures.some((p) => p.id === step.procedure)) {
      const suggestion = suggestProcedureId(options.runbook, step.procedure);
      issues.push({ path: ['recovery', i, 'procedure'], anchor: 'value', message: `no procedure "${step.procedure}" in ${options.runbook.file}`, ...(suggestion ? { suggestion } : {}) });
    }
  });
  const verify = Array.isArray(data.verify) ? data.verify : [];
  verify.forEach((step, i) => {
    if (!isRecord(step)) return;
    for (const key of ['manual', ...MANUAL_ONLY]) {
      if (step[key] !== undefined) issues.push({ path: ['verify', i, key], anchor: 'key', message: `${key} applies to recovery steps only (a game day hands runbook steps to a person, not the checks after them): remove it` });
    }
  });
  return issues;
}
