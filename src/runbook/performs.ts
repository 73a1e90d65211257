import type { RunbookProcedure } from './types.js';

/**
 * One runbook procedure a drill action performs, as a matcher over the runbook's procedures.
 * `command` is the usual form: the runbook command the action carries out (a plain string is a
 * substring of one of the procedure's command lines, whitespace collapsed; a script procedure is
 * matched by its path). `title` names the procedure by its comment instead, for an action that
 * brings about what the procedure is for by another means; `how` then says which.
 */
export type Performs =
  | { command: string | RegExp; when?: OutputCondition; how?: string }
  | { title: string; how: string; when?: OutputCondition };

/** Performed only when the action's journal output says it happened (e.g. the breaker tripped). */
export type OutputCondition = (output: Record<string, unknown> | undefined) => boolean;

/** Whether `entry` names `procedure`. */
export function performsProcedure(entry: Performs, procedure: RunbookProcedure): boolean {
  if ('title' in entry) return procedure.title.toLowerCase() === entry.title.toLowerCase();
  const texts = procedure.kind === 'script' ? [procedure.title] : procedure.commands;
  return texts.some((text) => (typeof entry.command === 'string' ? text.includes(entry.command) : entry.command.test(text)));
}
