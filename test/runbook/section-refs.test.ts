import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveSectionRef } from '../../src/runbook/section-refs.js';
import { loadScenarioFiles } from '../../src/scenario/loader.js';
import { IDS, shippedRunbook } from './shipped-runbook.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const ids = (ref: string) => {
  const result = resolveSectionRef(shippedRunbook(), ref);
  return result.ok ? result.sections.map((s) => s.id) : result.message;
};

describe('runbook: references to sections', () => {
  it('every shipped scenario names sections of the shipped runbook', async () => {
    const files = readdirSync(path.join(ROOT, 'drills/scenarios')).map((f) => path.join(ROOT, 'drills/scenarios', f));
    const loaded = await loadScenarioFiles(files, { requireEnv: false });
    const resolved = Object.fromEntries(loaded.map((l) => [l.scenario.name, ids(l.scenario.runbook)]));
    expect(resolved).toMatchObject({
      'db-corruption-pitr': [IDS.scenario2],
      'db-corruption-stale-backup': ['emergency-rollback-procedures/database-rollback-if-required/data-restoration-critical'],
      'k8s-bad-release-rollback': [IDS.option1],
      'k8s-auto-rollback-circuit-breaker': ['automated-recovery-scripts/circuit-breaker-implementation', 'automated-recovery-scripts/auto-rollback-script'],
      'k8s-node-failure-drain': ['recovery-procedures-by-component/kubernetes-components/node-recovery'],
      'k8s-pod-kill-self-heal': ['emergency-rollback-procedures/immediate-response-0-5-minutes/step-1-incident-assessment'],
    });
    for (const [name, value] of Object.entries(resolved)) expect(Array.isArray(value), `${name}: ${String(value)}`).toBe(true);
  });

  it('parentheses, case, emoji and the headings above are optional; each part must name one section', () => {
    expect(ids('rollback execution (5-15 minutes): option 1: kubernetes rolling rollback')).toEqual([IDS.option1]);
    expect(ids('Option 1: Kubernetes Rolling Rollback')).toEqual([IDS.option1]);
    expect(ids('Emergency Rollback Procedures: Rollback Execution: Option 1: Kubernetes Rolling Rollback')).toEqual([IDS.option1]);
    expect(ids('Immediate Response')).toMatch(/names 2 runbook sections .*Immediate Response \(0-5 minutes\).*Scenario 2: Database Corruption: Immediate Response/);
    expect(ids('Scenario 2: Database Corruption: Immediate Response')).toEqual([`${IDS.scenario2}/immediate-response`]);
    expect(ids('Option 4: Pray')).toMatch(/"Option 4: Pray" is no section of/);
    const typo = resolveSectionRef(shippedRunbook(), 'Scenario 3: Security Breech');
    expect(typo).toMatchObject({ ok: false, suggestion: 'Scenario 3: Security Breach' });
  });
});
