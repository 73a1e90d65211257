import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadScenarioFile } from '../../src/scenario/loader.js';
import { validationError } from './helpers.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'drill-incident-rules-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function scenario(name: string, targets: string, recovery: string): string {
  const file = path.join(dir, `${name}.yaml`);
  writeFileSync(file, `name: ${name}\ntitle: t\nrunbook: r\nseverity: P1\ntargets: ${targets}\nworkload:\n  probes:\n    - {type: sql, name: s, query: select 1}\nfaults:\n  - {type: credential-leak, kind: postgres-password}\nrecovery:\n${recovery}`);
  return file;
}

describe('incident-response steps in a scenario', () => {
  it('load with their defaults: every artifact the targets allow, the runbook\'s 24 hours, breach type unknown', async () => {
    const { scenario: s } = await loadScenarioFile(scenario('ok', '{postgres: {}}', '  - step: activate-incident-response\n  - step: preserve-forensics\n  - step: revoke-all-tokens\n'));
    expect(s.recovery.slice(0, 2)).toEqual([
      { step: 'activate-incident-response', breachType: 'unknown', timeout: 60_000 },
      { step: 'preserve-forensics', timeRange: 86_400_000, timeout: 300_000 },
    ]);
  });

  it('refuse (file, line, key, what to do) an artifact whose target is missing, a second preserve-forensics, an unknown artifact', async () => {
    const file = scenario(
      'bad',
      '{postgres: {}}',
      '  - {step: preserve-forensics, artifacts: [attacker-activity, service-logs]}\n  - {step: preserve-forensics}\n  - {step: preserve-forensics, artifacts: [memory]}\n',
    );
    const error = await validationError(loadScenarioFile(file));
    const issues = error.issues.map((i) => `${i.line} ${i.keyPath}: ${i.message}`);
    expect(issues).toEqual(
      expect.arrayContaining([
        '12 recovery[0].artifacts[1]: service-logs is collected from targets.service, which the scenario does not have; remove it, or add the target',
        '13 recovery[1].step: preserve-forensics is already recovery[0]: a run keeps one evidence record; remove this one',
        expect.stringMatching(/^14 recovery\[2\]\.artifacts\[0\]: /),
      ]),
    );
    expect(error.issues.every((i) => i.file === file)).toBe(true);
  });
});
