import type { Scenario } from '../scenario/schema.js';
import type { Runbook } from './types.js';

/**
 * What a game day prints for each manual recovery step that names a runbook `procedure:`: the
 * procedure's commands as the runbook has them (with where they are), then the step's own
 * `instructions`. By step index; steps without a procedure are absent (their instructions, or
 * title, are printed as they are).
 */
export function manualInstructions(runbook: Runbook, scenario: Pick<Scenario, 'recovery'>): Record<number, string> {
  const out: Record<number, string> = {};
  scenario.recovery.forEach((step, index) => {
    if (!step.manual || !step.procedure) return;
    const procedure = runbook.procedures.find((p) => p.id === step.procedure);
    if (!procedure) return;
    const lines = [`Runbook: ${procedure.title} (${runbook.file}, line ${procedure.line})`, ...procedure.commands.map((c) => `  ${c}`)];
    if (step.instructions) lines.push(step.instructions);
    out[index] = lines.join('\n');
  });
  return out;
}
