import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseDocument } from 'yaml';
import { flagValue, lintCommands, repositoryFacts } from '../support/ci-commands.js';

/**
 * The CI files drill ships: .github/workflows/drills.yml and the GitLab job in the README. Both
 * must be valid YAML, run only commands this repository has, and run the gate as documented
 * (negative controls excluded, JUnit written where it is uploaded).
 */
const ROOT = path.resolve(import.meta.dirname, '../..');
const facts = repositoryFacts(ROOT);

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, unknown>;
}
interface Workflow {
  on: Record<string, unknown>;
  jobs: Record<string, { 'runs-on': string; steps: Step[] }>;
}

const workflowText = readFileSync(path.join(ROOT, '.github/workflows/drills.yml'), 'utf8');

/** The ```yaml block under the README's "### GitLab CI". */
function gitlabSnippet(): string {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const from = readme.indexOf('\n### GitLab CI\n');
  expect(from, 'README has a "### GitLab CI" section').toBeGreaterThan(0);
  const block = /```yaml\n([\s\S]*?)```/.exec(readme.slice(from));
  expect(block, 'a ```yaml block in it').not.toBeNull();
  return block![1]!;
}

function strictYaml(text: string): unknown {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  expect(doc.errors.map((e) => e.message)).toEqual([]);
  expect(doc.warnings.map((e) => e.message)).toEqual([]);
  return doc.toJS() as unknown;
}

describe('.github/workflows/drills.yml', () => {
  const workflow = strictYaml(workflowText) as Workflow;
  const steps = Object.values(workflow.jobs).flatMap((j) => j.steps);
  const shell = steps.flatMap((s) => (s.run ? [s.run] : [])).join('\n');
  const gate = steps.find((s) => s.run?.includes('npx drill run'));

  it('is a workflow: triggers, jobs on a runner, steps that each use an action (pinned) or run a command', () => {
    expect(Object.keys(workflow.on)).toEqual(expect.arrayContaining(['pull_request', 'push']));
    for (const job of Object.values(workflow.jobs)) {
      expect(job['runs-on']).toMatch(/^ubuntu-/);
      for (const step of job.steps) {
        expect(Boolean(step.uses) !== Boolean(step.run), JSON.stringify(step)).toBe(true);
        if (step.uses) expect(step.uses).toMatch(/^[\w-]+\/[\w-]+@v\d+$/);
      }
    }
  });

  it('runs only npm scripts, drill commands and flags that exist, on scenarios that exist', async () => {
    expect(await lintCommands(shell, facts, ROOT)).toEqual([]);
  });

  it('runs the gate as documented: installs kind first, excludes negative controls, uploads the JUnit it writes and the run directories', () => {
    expect(gate?.run).toMatch(/npx drill run drills\/scenarios\/ .*--exclude-tag negative-control/);
    const junit = flagValue(gate!.run!, '--junit');
    const reports = flagValue(gate!.run!, '--reports-dir') ?? 'reports';
    expect(junit).toBeDefined();
    const kindAt = steps.findIndex((s) => s.run?.includes('kind version'));
    expect(kindAt).toBeGreaterThanOrEqual(0);
    expect(kindAt).toBeLessThan(steps.indexOf(gate!));
    const uploads = steps.filter((s) => s.uses?.startsWith('actions/upload-artifact@'));
    const uploaded = uploads.flatMap((s) => String(s.with?.path ?? '').split('\n').map((p) => p.trim()).filter(Boolean));
    expect(uploaded).toEqual(expect.arrayContaining([junit, `${reports}/summary.json`, `${reports}/`]));
    // Uploaded even when the gate failed: that is when the reports are needed.
    for (const u of uploads) expect(u.if).toMatch(/always\(\)|!cancelled\(\)/);
  });
});

describe('the GitLab CI job in the README', () => {
  const job = (strictYaml(gitlabSnippet()) as Record<string, { before_script: string[]; script: string[]; artifacts: { when: string; reports: { junit: string }; paths: string[] } }>).drills!;

  it('runs only npm scripts, drill commands and flags that exist, and reports the JUnit it writes', async () => {
    const shell = [...job.before_script, ...job.script].join('\n');
    expect(await lintCommands(shell, facts, ROOT)).toEqual([]);
    const gate = job.script.find((s) => s.includes('npx drill run'))!;
    expect(gate).toMatch(/--exclude-tag negative-control/);
    expect(job.artifacts.reports.junit).toBe(flagValue(gate, '--junit'));
    expect(job.artifacts.when).toBe('always');
  });
});

describe('the lint itself (negative controls)', () => {
  it('finds a missing npm script, an unknown drill command or flag, and a glob with no scenario', async () => {
    const bad = ['npm run no-such-script', 'npx drill launch drills/scenarios/', "npx drill run drills/scenarios/ --exclude-tags negative-control", "npx drill run 'drills/scenarios/zz-*.yaml' --junit out.xml", 'npm ci && npx drill validate'].join('\n');
    const problems = await lintCommands(bad, facts, ROOT);
    expect(problems).toEqual([
      'npm run no-such-script: package.json has no script "no-such-script"',
      expect.stringMatching(/^npx drill launch drills\/scenarios\/: drill has no command "launch"/),
      'npx drill run drills/scenarios/ --exclude-tags negative-control: drill run has no flag --exclude-tags',
      expect.stringMatching(/^npx drill run drills\/scenarios\/zz-\*\.yaml --junit out\.xml: drills\/scenarios\/zz-\*\.yaml: no scenario file/),
      'npx drill validate: drill validate names no scenario',
    ]);
  });

  it('a flag value is not taken for a scenario: --junit out.xml is not checked as one', async () => {
    expect(await lintCommands('npx drill run drills/scenarios/db-corruption-pitr.yaml --junit nowhere/junit.xml --fail-fast', facts, ROOT)).toEqual([]);
  });

  it('invalid YAML is caught (a duplicate key, a tab-indented line)', () => {
    expect(parseDocument('a: 1\na: 2\n', { uniqueKeys: true }).errors.length).toBeGreaterThan(0);
    expect(() => parse('jobs:\n\tgate: 1\n')).toThrow();
  });
});
