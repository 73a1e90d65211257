import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseDocument } from 'yaml';
import { expandScenarioArgs } from '../../src/cli/scenario-args.js';
import { loadScenarioFiles } from '../../src/scenario/loader.js';
import { selectedByTags } from '../../src/scenario/select-by-tags.js';
import { flagValue, flagValues, lintCommands, repositoryFacts, simpleCommands, unprivileged, type RunsAs } from '../support/ci-commands.js';
import { type CiProvides, machineNeeds, type MachineNeed, unmetMachineNeeds } from '../support/ci-needs.js';

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

/** Commands of shell text without their sudo prefix, each with who it runs as. */
const commandsOf = (shell: string) => simpleCommands(shell).map(unprivileged);
const isGate = (words: string[]) => words[0] === 'npx' && words[1] === 'drill' && words[2] === 'run';
const isSetup = (words: string[]) => words[0] === 'npm' && words[1] === 'run' && /^setup(:all)?$/.test(words[2] ?? '');

/** The catalogue scenarios a gate command selects (its arguments, --tag and --exclude-tag), with what each needs of the machine. */
async function gateScenarios(gate: string): Promise<Array<{ name: string; needs: MachineNeed[] }>> {
  const words = commandsOf(gate).find((c) => isGate(c.words))!.words.slice(3);
  const valued = facts.flags('run');
  const positional = words.filter((w, i) => !w.startsWith('--') && !(words[i - 1]?.startsWith('--') && valued.get(words[i - 1]!)));
  const loaded = await loadScenarioFiles(await expandScenarioArgs(positional, ROOT), { requireEnv: false });
  const selection = { tags: flagValues(gate, '--tag'), excludeTags: flagValues(gate, '--exclude-tag') };
  return loaded.filter((l) => selectedByTags(l.scenario.tags, selection)).map((l) => ({ name: l.scenario.name, needs: machineNeeds(l.scenario) }));
}

/** What a GitHub job's steps before its gate give it. */
function githubProvides(steps: Step[]): CiProvides {
  const gateAt = steps.findIndex((s) => commandsOf(s.run ?? '').some((c) => isGate(c.words)));
  const before = steps.slice(0, gateAt);
  const gateAs = commandsOf(steps[gateAt]!.run!).find((c) => isGate(c.words))!.as;
  const setupAt = before.findIndex((s) => commandsOf(s.run ?? '').some((c) => isSetup(c.words)));
  const setups = setupAt < 0 ? [] : commandsOf(before[setupAt]!.run!).filter((c) => isSetup(c.words));
  const go = before.slice(0, Math.max(setupAt, 0)).find((s) => s.uses?.startsWith('actions/setup-go@'))?.with?.['go-version'];
  return {
    gateAsRoot: gateAs !== 'caller',
    setup: setupKind(setups, gateAs),
    setupAll: setups.some((c) => c.words[2] === 'setup:all'),
    goVersion: go === undefined ? undefined : String(go),
    kind: before.some((s) => s.run?.includes('kind version')),
  };
}

function setupKind(setups: Array<{ as: RunsAs }>, gateAs: RunsAs): CiProvides['setup'] {
  if (setups.length === 0) return 'none';
  return setups.every((c) => c.as === gateAs) ? 'same-user' : 'other-user';
}

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

describe('the gate has what its drills need of the machine (root, Toxiproxy and Go, moto, kind)', () => {
  const workflow = strictYaml(workflowText) as Workflow;
  const steps = Object.values(workflow.jobs).flatMap((j) => j.steps);
  const gate = steps.find((s) => s.run?.includes('npx drill run'))!.run!;

  it('GitHub: every drill the gate selects can run on the job', async () => {
    const scenarios = await gateScenarios(gate);
    // The check means something only if the gate selects drills with each need.
    expect(new Set(scenarios.flatMap((s) => s.needs))).toEqual(new Set(['root', 'toxiproxy', 'moto', 'kind', 'libfaketime', 'nftables']));
    expect(githubProvides(steps)).toMatchObject({ gateAsRoot: true, setup: 'same-user' });
    expect(unmetMachineNeeds(scenarios, githubProvides(steps))).toEqual([]);
  });

  it('negative control: the workflow without sudo and setup-go, as it was, leaves the disk drills without root and the network drills without Toxiproxy', async () => {
    const before = (strictYaml(workflowText.replaceAll('sudo -E env "PATH=$PATH" ', '')) as Workflow).jobs;
    const oldSteps = Object.values(before).flatMap((j) => j.steps).filter((s) => !s.uses?.startsWith('actions/setup-go@'));
    const problems = unmetMachineNeeds(await gateScenarios(gate), githubProvides(oldSteps));
    expect(problems).toEqual(expect.arrayContaining([
      expect.stringMatching(/^disk-full-wal-recovery: root \(a tmpfs mount/),
      expect.stringMatching(/^wal-archive-stuck-recovery: root/),
      expect.stringMatching(/^net-db-timeout-pool-recycle: Toxiproxy: no Go is installed before npm run setup builds it \(Go 1\.23\+\)/),
      'clock-skew-service-recovery: libfaketime: npm run setup installs the faketime package only as root (sudo -E npm run setup)',
      'net-db-packet-loss: nftables: npm run setup installs the nftables package only as root (sudo -E npm run setup)',
      // region-outage with network: drop is an nftables table too.
      'region-outage-network-drop-dns-failover: nftables: npm run setup installs the nftables package only as root (sudo -E npm run setup)',
    ]));
    // Setup as the runner user, gate as root: the Toxiproxy build is in another user's cache.
    const mixed = steps.map((s) => (s.run?.includes('npm run setup') ? { ...s, run: 'npm run setup' } : s));
    expect(unmetMachineNeeds(await gateScenarios(gate), githubProvides(mixed))).toContainEqual(expect.stringMatching(/^net-db-timeout-pool-recycle: Toxiproxy: npm run setup runs as another user than the gate/));
    const oldGo = steps.map((s) => (s.uses?.startsWith('actions/setup-go@') ? { ...s, with: { 'go-version': '1.22' } } : s));
    expect(unmetMachineNeeds(await gateScenarios(gate), githubProvides(oldGo))).toContainEqual('net-db-timeout-pool-recycle: Toxiproxy: Go 1.22 is older than the 1.23 its module asks for');
  });

  it('negative control: a gate that does not exclude cgroup-v1 selects the resource drills, which no hosted runner can run', async () => {
    const problems = unmetMachineNeeds(await gateScenarios(gate.replace('--exclude-tag cgroup-v1 ', '')), githubProvides(steps));
    expect(problems).toEqual(expect.arrayContaining([expect.stringMatching(/^pg-oom-kill-crash-recovery: cgroup v1 \(cpu-stress, memory-stress: CGROUP_V1_MISSING\): hosted runners have cgroup v2 only/)]));
  });

  it('GitLab: every drill the README job selects can run on it', async () => {
    const job = gitlabJob();
    const commands = [...job.before_script, ...job.script].flatMap(commandsOf);
    const gateAt = commands.findIndex((c) => isGate(c.words));
    const before = commands.slice(0, gateAt);
    const setupAt = before.findIndex((c) => isSetup(c.words));
    const goVersion = job.variables.GO_VERSION;
    const goInstalled = before.slice(0, Math.max(setupAt, 0)).some((c) => c.words.some((w) => /go\.dev\/dl\/go\$\{GO_VERSION\}\.linux-amd64\.tar\.gz/.test(w)));
    const provides: CiProvides = {
      gateAsRoot: commands[gateAt]!.as !== 'caller',
      setup: setupKind(before.filter((c) => isSetup(c.words)), commands[gateAt]!.as),
      setupAll: before.some((c) => isSetup(c.words) && c.words[2] === 'setup:all'),
      goVersion: goInstalled ? goVersion : undefined,
      kind: before.some((c) => c.words.includes('kind') || c.words.some((w) => w.includes('kind-linux-amd64'))),
    };
    const scenarios = await gateScenarios(job.script.find((s) => s.includes('npx drill run'))!);
    expect(unmetMachineNeeds(scenarios, provides)).toEqual([]);
  });
});

interface GitlabJob {
  variables: Record<string, string>;
  before_script: string[];
  script: string[];
  after_script?: string[];
  artifacts: { when: string; reports: { junit: string }; paths: string[] };
}
const gitlabJob = () => (strictYaml(gitlabSnippet()) as Record<string, GitlabJob>).drills!;

describe('the GitLab CI job in the README', () => {
  const job = gitlabJob();

  it('runs only npm scripts, drill commands and flags that exist, and reports the JUnit it writes', async () => {
    const shell = [...job.before_script, ...job.script, ...(job.after_script ?? [])].join('\n');
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
