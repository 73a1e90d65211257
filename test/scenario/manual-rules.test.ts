import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadScenarioFile } from '../../src/scenario/loader.js';
import { readRunbook } from '../../src/runbook/read-runbook.js';
import { manualInstructions } from '../../src/runbook/manual-instructions.js';
import { RUNBOOK_COPY } from '../runbook/shipped-runbook.js';
import { validationError as invalid } from './helpers.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'drill-manual-rules-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const IDENTIFY = 'disaster-recovery-scenarios/scenario-2-database-corruption/data-recovery#identify-corruption-extent';

function scenario(name: string, recovery: string[], verify: string[] = []): string {
  const file = path.join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    `name: ${name}\ntitle: t\nrunbook: "Scenario 2: Database Corruption"\nseverity: P1\ntargets: {postgres: {provider: native}}\nworkload:\n  probes:\n    - {type: sql, name: q, query: select 1}\n` +
      `faults:\n  - {type: pg-primary-crash}\nrecovery:\n${recovery.map((s) => `  - ${s}\n`).join('')}` +
      (verify.length ? `verify:\n${verify.map((s) => `  - ${s}\n`).join('')}` : ''),
  );
  return file;
}

const messages = async (load: Promise<unknown>) => (await invalid(load)).issues.map((i) => `${i.file}:${i.line} ${i.keyPath}: ${i.message}`).join('\n');

describe('game-day scenario rules (manual steps)', () => {
  it('loads manual: true on a step drill can perform, and a manual step, with what a game day needs', async () => {
    const file = scenario('ok', ['{step: pg-restart, manual: true, manualTimeout: 5m, instructions: "systemctl restart postgresql"}', '{step: manual, title: Call the DBA}']);
    for (const gameDay of [undefined, true]) {
      const { scenario: s } = await loadScenarioFile(file, { gameDay });
      expect(s.recovery[0]).toMatchObject({ step: 'pg-restart', manual: true, manualTimeout: 300_000, instructions: 'systemctl restart postgresql' });
      expect(s.recovery[1]).toMatchObject({ step: 'manual', title: 'Call the DBA', manual: true });
    }
    // Not marked: not manual, and no wait configured (the engine's default applies only to manual steps).
    const { scenario: plain } = await loadScenarioFile(scenario('plain', ['{step: pg-restart}']), { gameDay: false });
    expect(plain.recovery[0]!.manual).toBeUndefined();
  });

  it('a plain run refuses a manual step, naming file, line, key and --game-day; a game day and validate accept it', async () => {
    const file = scenario('needs-game-day', ['{step: pg-restart, manual: true}', '{step: manual, title: Call the DBA}']);
    const text = await messages(loadScenarioFile(file, { gameDay: false }));
    expect(text).toMatch(new RegExp(`needs-game-day\\.yaml:13 recovery\\[1\\]\\.step: .*run with --game-day`));
    // Only the manual step: a manual: true step drill can perform runs without a person.
    expect(text).not.toMatch(/recovery\[0\]/);
    await expect(loadScenarioFile(file, { gameDay: true })).resolves.toBeDefined();
    await expect(loadScenarioFile(file)).resolves.toBeDefined();
  });

  it('refuses game-day keys on a step nobody takes part in, and manual in verify', async () => {
    const text = await messages(loadScenarioFile(scenario('stray', ['{step: pg-restart, manualTimeout: 5m, instructions: x}'], ['{step: smoke, manual: true}'])));
    expect(text).toMatch(/recovery\[0\]\.manualTimeout: manualTimeout is only used by a step a person takes part in: add `manual: true`/);
    expect(text).toMatch(/recovery\[0\]\.instructions: /);
    expect(text).toMatch(/verify\[0\]\.manual: manual applies to recovery steps only/);
  });

  it('a manual step needs its title; manual: false is no manual step', async () => {
    expect(await messages(loadScenarioFile(scenario('no-title', ['{step: manual}'])))).toMatch(/recovery\[0\]\.title/);
    expect(await messages(loadScenarioFile(scenario('manual-false', ['{step: manual, title: x, manual: false}'])))).toMatch(/recovery\[0\]\.manual/);
    expect(await messages(loadScenarioFile(scenario('short', ['{step: manual, title: x, manualTimeout: 0s}'])))).toMatch(/recovery\[0\]\.manualTimeout/);
  });

  it('checks procedure: against the runbook, and prints that procedure for the person', async () => {
    const runbook = await readRunbook(RUNBOOK_COPY);
    const good = scenario('procedure', [`{step: manual, title: Identify, procedure: "${IDENTIFY}", instructions: Then tell the IC.}`, '{step: pg-restart}']);
    const { scenario: s } = await loadScenarioFile(good, { runbook, gameDay: true });
    const text = manualInstructions(runbook, s);
    expect(Object.keys(text)).toEqual(['0']);
    expect(text[0]).toMatch(/^Runbook: Identify corruption extent \(.*line \d+\)\n {2}\.\/scripts\/database\/analyze-corruption\.sh\nThen tell the IC\.$/);
    const bad = scenario('bad-procedure', [`{step: manual, title: Identify, procedure: "${IDENTIFY.replace('extent', 'extend')}"}`]);
    const refused = (await invalid(loadScenarioFile(bad, { runbook }))).issues;
    expect(refused.map((i) => `${i.keyPath}: ${i.message}`)).toEqual([expect.stringMatching(/^recovery\[0\]\.procedure: no procedure "[^"]+#identify-corruption-extend" in /)]);
    expect(refused[0]!.suggestion).toBe(IDENTIFY);
    // Without a runbook only the form of the id is checked.
    await expect(loadScenarioFile(bad)).resolves.toBeDefined();
    expect(await messages(loadScenarioFile(scenario('bad-id', ['{step: manual, title: x, procedure: "not an id"}'])))).toMatch(/recovery\[0\]\.procedure/);
  });
});
