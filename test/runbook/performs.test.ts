import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { STEP_PERFORMS, VERIFY_PERFORMS, VERIFY_STEP_PERFORMS } from '../../src/recovery/runbook-performs.js';
import { performsProcedure, type Performs } from '../../src/runbook/performs.js';
import { performedProcedures, plannedActions, scenarioScope } from '../../src/runbook/scope.js';
import { loadScenarioFiles } from '../../src/scenario/loader.js';
import { IDS, shippedRunbook } from './shipped-runbook.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const matches = (entry: Performs) => shippedRunbook().procedures.filter((p) => performsProcedure(entry, p)).map((p) => p.id.split('/').at(-1));

describe('the step kind → runbook procedure table, reviewed against the runbook', () => {
  it('every entry names at least one procedure of the shipped runbook (a renamed command or a typo fails here)', () => {
    const entries = [...Object.entries(STEP_PERFORMS), ...Object.entries(VERIFY_STEP_PERFORMS), ...Object.entries(VERIFY_PERFORMS)].flatMap(([kind, list]) => list.map((entry) => [kind, entry] as const));
    expect(entries.length).toBeGreaterThan(30);
    for (const [kind, entry] of entries) expect(matches(entry), `${kind}: ${JSON.stringify('title' in entry ? entry.title : String(entry.command))}`).not.toEqual([]);
    // The negative control: a command the runbook does not have matches nothing.
    expect(matches({ command: 'kubectl rollout pause' })).toEqual([]);
    expect(matches({ title: 'Stop all writes', how: '-' })).toEqual([]);
  });

  it('names what the issue names: rollout undo, point-in-time-restore.sh', () => {
    expect(STEP_PERFORMS['k8s-rollout-undo'].flatMap(matches)).toEqual(['option-1-kubernetes-rolling-rollback#rollback-to-previous-version']);
    expect(STEP_PERFORMS['pitr-restore'].flatMap(matches)).toEqual(['data-recovery#restore-from-point-in-time-backup']);
    // A script is matched by its path, not by the commands inside it: the breaker script calls
    // auto-rollback.sh, which is the other script's procedure only.
    expect(matches({ command: 'scripts/emergency/auto-rollback.sh' })).toEqual(['auto-rollback-script#scripts-emergency-auto-rollback-sh']);
    expect(STEP_PERFORMS['k8s-rollout-undo'].flatMap(matches)).not.toContain('auto-rollback-script#scripts-emergency-auto-rollback-sh');
  });

  it('one command in two sections is why credit is scoped to the scenario\'s sections', () => {
    expect(STEP_PERFORMS['k8s-rollout-restart'].flatMap(matches)).toEqual(['immediate-response#restart-read-only-instances', 'primary-database-failure#restart-application-pods']);
    const scope = scenarioScope(shippedRunbook(), { runbook: 'Scenario 2: Database Corruption' });
    const performed = performedProcedures(scope, [{ label: 'recovery[0] k8s-rollout-restart', performs: STEP_PERFORMS['k8s-rollout-restart'] }]);
    expect([...performed.keys()]).toEqual([`${IDS.scenario2}/immediate-response#restart-read-only-instances`]);
  });

  it('the shipped catalogue, every drill passing, covers these; Scenario 1\'s DR alert stays never drilled', async () => {
    const runbook = shippedRunbook();
    const files = readdirSync(path.join(ROOT, 'drills/scenarios')).map((f) => path.join(ROOT, 'drills/scenarios', f));
    const loaded = await loadScenarioFiles(files, { requireEnv: false, runbook });
    const covered = new Set<string>();
    for (const { scenario } of loaded) {
      if (scenario.tags.includes('negative-control')) continue;
      // The breaker trips in its drill (the drill fails otherwise), so its auto-rollback runs.
      // preserve-forensics collects by default every artifact its targets allow (logs and a database
      // snapshot with these; memory dumps where the service runs as the drill's own processes).
      const forensics = [{ kind: 'service-logs' }, { kind: 'database-snapshot' }, ...(scenario.targets.service && !scenario.targets.kubernetes ? [{ kind: 'memory-dump' }] : [])];
      const outputs = scenario.recovery.map((s) => (s.step === 'k8s-circuit-breaker' ? { tripped: true } : s.step === 'preserve-forensics' ? { artifacts: forensics } : undefined));
      for (const id of performedProcedures(scenarioScope(runbook, scenario), plannedActions(scenario, outputs), scenario.covers).keys()) covered.add(id);
    }
    const sectionsCovered = (prefix: string) => runbook.procedures.filter((p) => p.sectionId.startsWith(prefix)).map((p) => covered.has(p.id));
    // region-outage-dns-failover: the Route 53 change and the propagation check.
    expect(sectionsCovered(IDS.option3)).toEqual([true, true]);
    // breach-leaked-api-token: "Revoke all API tokens"; breach-leaked-service-account-token: emergency
    // access; security-breach-full-runbook: incident response, log evidence, memory dumps, forensic
    // snapshots; breach-isolate-compromised-pod: isolation.
    expect(sectionsCovered(IDS.scenario3)).toEqual([true, true, true, true, true, true, true]);
    // region-outage-dns-failover: update-dns-for-dr.sh; region-automatic-failover: activate-dr-site.sh
    // and the three verification steps (verify-dr); the DR activation alert: not yet.
    expect(sectionsCovered('disaster-recovery-scenarios/scenario-1')).toEqual([true, true, false, true, true, true]);
    expect(sectionsCovered(IDS.scenario2)).toEqual(Array(6).fill(true));
    expect(sectionsCovered(IDS.option1)).toEqual([true, true, true]);
    expect(sectionsCovered('automated-recovery-scripts')).toEqual([true, true]);
    // Quick health check (curl /health): no step runs it, the probes are not a step.
    expect(sectionsCovered('emergency-rollback-procedures/immediate-response-0-5-minutes/step-1-incident-assessment')).toEqual([false, true, true]);
    expect(sectionsCovered(IDS.consistency)).toEqual([true, true, true]);
    // db-corruption-pitr-service's verify steps: the three smoke tests, the load test and the
    // response times against the baseline; no step benchmarks the database.
    expect(sectionsCovered(`${IDS.postRecovery}/smoke-tests`)).toEqual([true, true, true]);
    expect(sectionsCovered(`${IDS.postRecovery}/performance-validation`)).toEqual([true, true, false]);
    expect(covered.size).toBe(48);
  });

  it('the service steps perform the runbook\'s restart and validation only when they did so', () => {
    const runbook = shippedRunbook();
    const ids = (scope: string, actions: Parameters<typeof performedProcedures>[1]) =>
      [...performedProcedures(scenarioScope(runbook, { runbook: scope }), actions).keys()].map((id) => id.split('/').at(-1));
    const restart = (output: Record<string, unknown> | undefined) => [{ label: 'recovery[0] service-restart', performs: STEP_PERFORMS['service-restart'], ...(output ? { output } : {}) }];
    const same = { from: '4.4.0', to: '4.4.0' };
    // Per mode: the API is "Restart application pods", the readers "Restart read-only instances".
    expect(ids('Primary Database Failure', restart({ version: same, restarted: ['api', 'worker'] }))).toEqual(['primary-database-failure#restart-application-pods']);
    expect(ids('Scenario 2: Database Corruption', restart({ version: same, restarted: ['reader'] }))).toEqual(['immediate-response#restart-read-only-instances']);
    // Negative controls: a restart that deploys another release, one that did not run, one of other modes.
    expect(ids('Primary Database Failure', restart({ version: { from: '4.4.0', to: '4.4.4' }, restarted: ['api'] }))).toEqual([]);
    expect(ids('Primary Database Failure', restart(undefined))).toEqual([]);
    expect(ids('Scenario 2: Database Corruption', restart({ version: same, restarted: ['api', 'worker'] }))).toEqual([]);
    // switch-workload restarts the API only where the service follows the database.
    const switched = (service?: Record<string, unknown>) => [{ label: 'recovery[0] switch-workload', performs: STEP_PERFORMS['switch-workload'], output: { to: 'pitr-1', ...(service ? { service } : {}) } }];
    expect(ids('Primary Database Failure', switched({ version: same, restarted: ['api', 'reader'] }))).toEqual([
      'primary-database-failure#update-application-connection-strings',
      'primary-database-failure#restart-application-pods',
    ]);
    expect(ids('Primary Database Failure', switched())).toEqual(['primary-database-failure#update-application-connection-strings']);
    // smoke does the same as a recovery step and in verify:
    const smoke = [{ label: 'verify[0] smoke', performs: VERIFY_STEP_PERFORMS.smoke }];
    expect(ids('Post-Recovery Testing', smoke)).toEqual(['smoke-tests#basic-functionality-test', 'smoke-tests#user-journey-tests', 'smoke-tests#integration-tests']);
    expect(STEP_PERFORMS.smoke.flatMap(matches)).toEqual(VERIFY_STEP_PERFORMS.smoke.flatMap(matches));
  });
});
