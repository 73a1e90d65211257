import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseRunbook } from '../../src/runbook/parse-runbook.js';
import { readRunbook, RunbookInvalidError } from '../../src/runbook/read-runbook.js';
import { IDS, parsed, shippedRunbook, shippedText } from './shipped-runbook.js';

const inSection = (sectionId: string) => shippedRunbook().procedures.filter((p) => p.sectionId.startsWith(sectionId));

describe('the shipped runbook as procedures', () => {
  it('has its sections by heading path, the document title left out of every id', () => {
    const runbook = shippedRunbook();
    expect(runbook.title).toBe('TrustStram v4.4 Rollback & Disaster Recovery Procedures');
    expect(runbook.sections.find((s) => s.id === IDS.option1)).toMatchObject({
      path: ['Emergency Rollback Procedures', 'Rollback Execution (5-15 minutes)', 'Option 1: Kubernetes Rolling Rollback'],
      depth: 4,
      line: 67,
      parent: 'emergency-rollback-procedures/rollback-execution-5-15-minutes',
    });
    expect(runbook.sections.every((s) => !s.id.includes('truststream-v4'))).toBe(true);
    expect(runbook.procedures).toHaveLength(66);
  });

  it('Option 1: rollout undo (three commands under one comment), rollout status, verify', () => {
    const procedures = inSection(IDS.option1);
    expect(procedures.map((p) => [p.title, p.commands.length])).toEqual([
      ['Rollback to previous version', 3],
      ['Monitor rollback progress', 1],
      ['Verify rollback', 1],
    ]);
    expect(procedures[0]!.commands[0]).toBe('kubectl rollout undo deployment/truststream-api -n truststream-production');
    expect(procedures[0]!.id).toBe(`${IDS.option1}#rollback-to-previous-version`);
    expect(procedures[1]).toMatchObject({ line: 74, kind: 'commands' });
  });

  it('Scenario 2: stop writes, read-only mode, restart readers, analyse, point-in-time restore, verify', () => {
    expect(inSection(IDS.scenario2).map((p) => p.title)).toEqual([
      'Stop write operations',
      'Enable read-only mode on remaining replicas',
      'Restart read-only instances',
      'Identify corruption extent',
      'Restore from point-in-time backup',
      'Verify restored data',
    ]);
    // A command continued over lines with a backslash is one command.
    expect(inSection(IDS.scenario2)[4]!.commands).toEqual([
      './scripts/database/point-in-time-restore.sh --restore-time "2025-09-21 12:00:00" --new-instance truststream-db-recovered',
    ]);
  });

  it('Scenario 3: isolate, revoke, emergency access, incident response, three forensic steps', () => {
    expect(inSection(IDS.scenario3).map((p) => p.id.slice(IDS.scenario3.length + 1))).toEqual([
      'immediate-containment#isolate-affected-systems',
      'immediate-containment#revoke-all-api-tokens',
      'immediate-containment#enable-emergency-access-controls',
      'immediate-containment#activate-security-incident-response',
      'forensic-preservation#capture-memory-dumps',
      'forensic-preservation#preserve-log-evidence',
      'forensic-preservation#create-forensic-snapshots',
    ]);
  });

  it('a #! script is one procedure named by its path; the script it calls is not a procedure of its own', () => {
    const scripts = shippedRunbook().procedures.filter((p) => p.kind === 'script');
    expect(scripts.map((p) => p.title)).toEqual([
      'scripts/monitoring/recovery-health-check.sh',
      'scripts/emergency/auto-rollback.sh',
      'scripts/monitoring/circuit-breaker.sh',
    ]);
    const breaker = scripts[2]!;
    expect(breaker.id).toBe('automated-recovery-scripts/circuit-breaker-implementation#scripts-monitoring-circuit-breaker-sh');
    expect(breaker.commands).toContain('./scripts/emergency/auto-rollback.sh');
  });

  it('templates and plain text blocks hold no procedures', () => {
    const runbook = shippedRunbook();
    const templates = runbook.sections.filter((s) => s.id.startsWith('documentation-communication'));
    expect(templates.length).toBeGreaterThan(3);
    expect(runbook.procedures.filter((p) => p.sectionId.startsWith('documentation-communication'))).toEqual([]);
  });
});

describe('ids and hashes under edits', () => {
  const original = shippedRunbook();
  const byId = (runbook: typeof original) => new Map(runbook.procedures.map((p) => [p.id, p.sha256]));

  it('survive edits elsewhere: another section changed, a procedure added, the title bumped, lines moved', () => {
    const edited = shippedText()
      .replace('# TrustStram v4.4 Rollback', '# TrustStram v4.5 Rollback')
      .replace('# Revoke all API tokens\n', '# Revoke all API tokens\n./scripts/security/rotate-keys.sh\n')
      .replace('#### **Option 3: DNS Failover (Multi-Region)**', '#### **Option 3: DNS Failover (All Regions)**')
      .replace('## 🎯 **Emergency Response Overview**', 'Added paragraph.\n\n## 🎯 **Emergency Response Overview**');
    const after = byId(parsed(edited));
    const before = byId(original);
    const changed = [...before].filter(([id, sha]) => after.get(id) !== sha).map(([id]) => id);
    expect(changed).toEqual([
      `${IDS.option3}#switch-dns-to-backup-region`,
      `${IDS.option3}#verify-dns-propagation`,
      `${IDS.scenario3}/immediate-containment#revoke-all-api-tokens`,
    ]);
    // The renamed section's procedures have new ids; the edited one keeps its id with a new hash.
    expect(after.has(`${IDS.scenario3}/immediate-containment#revoke-all-api-tokens`)).toBe(true);
    expect(after.has('emergency-rollback-procedures/rollback-execution-5-15-minutes/option-3-dns-failover-all-regions#verify-dns-propagation')).toBe(true);
  });

  it('a changed command changes the hash; re-indenting or re-wrapping it does not', () => {
    const id = `${IDS.dataRecovery}#identify-corruption-extent`;
    const hash = (text: string) => parsed(text).procedures.find((p) => p.id === id)!.sha256;
    const text = shippedText();
    expect(hash(text.replace('./scripts/database/analyze-corruption.sh', './scripts/database/analyze-corruption.sh --all'))).not.toBe(hash(text));
    expect(hash(text.replace('./scripts/database/analyze-corruption.sh', '  ./scripts/database/analyze-corruption.sh   '))).toBe(hash(text));
    const pitr = `${IDS.dataRecovery}#restore-from-point-in-time-backup`;
    const pitrHash = (t: string) => parsed(t).procedures.find((p) => p.id === pitr)!.sha256;
    const oneLine = text.replace('./scripts/database/point-in-time-restore.sh \\\n  --restore-time', './scripts/database/point-in-time-restore.sh --restore-time');
    expect(oneLine).not.toBe(text);
    expect(pitrHash(oneLine)).toBe(pitrHash(text));
  });

  it('repeated headings and titles get -2, so every id is unique', () => {
    const runbook = parsed('## Ops\n```bash\n# Restart\nsystemctl restart a\n\n# Restart\nsystemctl restart b\n```\n## Ops\n```sh\nmake\n```\n');
    expect(runbook.procedures.map((p) => p.id)).toEqual(['ops#restart', 'ops#restart-2', 'ops-2#make']);
    expect(runbook.title).toBeUndefined();
  });
});

describe('malformed runbooks', () => {
  const problems = (text: string) => {
    const result = parseRunbook(text, 'r.md', 'x');
    return result.ok ? [] : result.problems;
  };

  it('a missing closing fence is named at its line (it would swallow the sections below it)', () => {
    // Scenario 2's last block loses its closing fence: Scenario 3's headings become code, and the
    // fences below pair up one off (here the damage even ends in a block that closes after all).
    const text = shippedText().replace('--instance truststream-db-recovered\n```\n', '--instance truststream-db-recovered\n');
    expect(text).not.toBe(shippedText());
    expect(problems(text)).toEqual([{ line: 201, message: expect.stringMatching(/"```bash" opens a code block, but this line is inside the code block opened at line 186/) }]);
    expect(problems(shippedText())).toEqual([]);
    // At the end of the file: the block runs to the end.
    expect(problems('## A\n```bash\nls\n')).toEqual([{ line: 2, message: expect.stringMatching(/never closed/) }]);
    // The negative control: the same shapes closed properly, with tildes and longer fences.
    expect(problems('## A\n~~~bash\nls\n~~~\n## B\n````sh\nls\n`````\n')).toEqual([]);
    // Markdown about Markdown: a longer outer fence holds a shorter one.
    expect(problems('## A\n````markdown\n```bash\nls\n```\n````\n## B\n```sh\nls\n```\n')).toEqual([]);
    expect(problems('## A\n```markdown\n~~~bash\nls\n~~~\n```\n## B\n```sh\nls\n```\n')).toEqual([]);
  });

  it('no headings, no shell blocks, an empty heading, an empty file: each said', () => {
    expect(problems('')).toEqual([{ line: 0, message: 'the file is empty' }]);
    expect(problems('just text\n```bash\nls\n```\n')).toEqual([{ line: 0, message: expect.stringMatching(/no headings/) }]);
    expect(problems('# Title\n## A\n```\nls\n```\n')).toEqual([{ line: 0, message: expect.stringMatching(/no procedures/) }]);
    expect(problems('## A\n```bash\nls\n```\n##\n')).toEqual([{ line: 5, message: expect.stringMatching(/heading without text/) }]);
  });

  describe('files', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'drill-runbook-test-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('a missing file, a directory, a binary file and an unclosed fence are RunbookInvalidError (exit 2) naming the file', async () => {
      const binary = path.join(dir, 'binary.md');
      writeFileSync(binary, Buffer.from([0x23, 0x20, 0x00, 0xff, 0xfe]));
      const broken = path.join(dir, 'broken.md');
      writeFileSync(broken, '## A\n```bash\nls\n');
      const cases: Array<[string, RegExp]> = [
        [path.join(dir, 'missing.md'), /missing\.md: not found/],
        [dir, /is a directory/],
        [binary, /binary\.md: is not UTF-8 text/],
        [broken, /broken\.md:2: a code block opened here is never closed/],
      ];
      for (const [file, message] of cases) {
        const error = await readRunbook(file).catch((e: unknown) => e);
        expect(error, file).toBeInstanceOf(RunbookInvalidError);
        expect((error as RunbookInvalidError).kind).toBe('input');
        expect((error as Error).message).toMatch(message);
      }
    });
  });
});
