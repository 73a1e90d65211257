import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { STEP_PERFORMS } from '../../src/recovery/runbook-performs.js';
import { performedProcedures, plannedActions, scenarioScope } from '../../src/runbook/scope.js';
import { loadScenarioFile } from '../../src/scenario/loader.js';
import { shippedRunbook } from '../runbook/shipped-runbook.js';

const FIXTURE = path.join(import.meta.dirname, '../fixtures/scenarios/notify-migration-rollback.yaml');
const ENV = { DRILL_TEST_SLACK_PORT: '1', DRILL_TEST_HOOK_PORT: '2', DRILL_TEST_HOOK_TOKEN: 'token-1', DRILL_TEST_SMTP_PORT: '3', DRILL_TEST_SMTP_PASSWORD: 'pw-12345' };
const STEP_2 = 'emergency-rollback-procedures/immediate-response-0-5-minutes/step-2-stakeholder-notification#send-immediate-alert';

describe('drill coverage credits the notify step with runbook Step 2', () => {
  it('a drill that follows Step 2 and runs notify performs "Send immediate alert" (send-emergency-alert.sh)', async () => {
    const runbook = shippedRunbook();
    expect(runbook.procedures.map((p) => p.id)).toContain(STEP_2);
    const { scenario } = await loadScenarioFile(FIXTURE, { env: ENV, runbook });
    const performed = [...performedProcedures(scenarioScope(runbook, scenario), plannedActions(scenario, []), scenario.covers).keys()];
    expect(performed).toContain(STEP_2);
  });

  it('without its step, or outside Step 2\'s section, nothing is credited', async () => {
    const runbook = shippedRunbook();
    const { scenario } = await loadScenarioFile(FIXTURE, { env: ENV, runbook });
    const withoutNotify = { ...scenario, recovery: scenario.recovery.filter((s) => s.step !== 'notify') };
    expect([...performedProcedures(scenarioScope(runbook, withoutNotify), plannedActions(withoutNotify, []), undefined).keys()]).not.toContain(STEP_2);
    const elsewhere = scenarioScope(runbook, { runbook: 'Database Rollback (If Required): Schema Rollback' });
    expect([...performedProcedures(elsewhere, [{ label: 'recovery[0] notify', performs: STEP_PERFORMS.notify }]).keys()]).toEqual([]);
  });
});
