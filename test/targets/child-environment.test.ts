import path from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { drillProcessEnvironment } from '../../src/cli/drill-process.js';
import { childEnvironment, DOCKER_VARIABLES, NODE_VARIABLES } from '../../src/targets/process/child-environment.js';
import { runCommand } from '../../src/targets/process/run-command.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

const parent = {
  PATH: '/usr/bin:/bin',
  HOME: '/home/u',
  TMPDIR: '/tmp',
  LANG: 'C.UTF-8',
  LC_ALL: 'C',
  DEBUG: 'drill:*',
  DRILL_PG_BINDIR: '/usr/lib/postgresql/15/bin',
  DRILL_KUBECONFIG: '/k/config',
  DRILL_EVIDENCE_KEY: 'evidence-key-value',
  DRILL_EVIDENCE_SIGNING_KEY: 'signing-key-value',
  DRILL_API_TOKEN: 'api-token-value',
  GITHUB_TOKEN: 'ghp_value',
  AWS_SECRET_ACCESS_KEY: 'aws-value',
  DB_URL: 'postgres://u:pw@h/db',
  DOCKER_HOST: 'unix:///run/docker.sock',
  DOCKER_AUTH_CONFIG: '{"auths":{}}',
  KUBECONFIG: '/home/u/.kube/config',
  SHELL: '/bin/bash',
};

describe('childEnvironment', () => {
  it('passes the basics (PATH, HOME, TMPDIR, locale) and nothing else by default', () => {
    expect(childEnvironment({ from: parent })).toEqual({ PATH: '/usr/bin:/bin', HOME: '/home/u', TMPDIR: '/tmp', LANG: 'C.UTF-8', LC_ALL: 'C' });
  });

  it('adds the variables named and the values set; a set undefined removes one', () => {
    const env = childEnvironment({ from: parent, pass: NODE_VARIABLES, set: { PGPASSFILE: '/tmp/x/pgpass', HOME: undefined } });
    expect(env).toEqual({ PATH: '/usr/bin:/bin', TMPDIR: '/tmp', LANG: 'C.UTF-8', LC_ALL: 'C', DEBUG: 'drill:*', PGPASSFILE: '/tmp/x/pgpass' });
  });

  it('a prefix lets settings through but not the secrets that share it', () => {
    const env = childEnvironment({ from: parent, pass: ['DRILL_*'] });
    expect(Object.keys(env).filter((k) => k.startsWith('DRILL_')).sort()).toEqual(['DRILL_KUBECONFIG', 'DRILL_PG_BINDIR']);
    // Named exactly, a variable is passed whatever its name says.
    expect(childEnvironment({ from: parent, pass: ['DRILL_API_TOKEN'] }).DRILL_API_TOKEN).toBe('api-token-value');
  });

  it('the drill process gets the harness settings, Docker and KUBECONFIG only (its scenario\'s ${VAR}s come through a pipe)', () => {
    const plan = { runId: 'r', runDir: '/tmp/r', scenarioFile: '/s.yaml', confirmDataLoss: false };
    const env = drillProcessEnvironment(plan, parent);
    expect(env).toMatchObject({ DRILL_PG_BINDIR: parent.DRILL_PG_BINDIR, DRILL_KUBECONFIG: '/k/config', DOCKER_HOST: parent.DOCKER_HOST, KUBECONFIG: parent.KUBECONFIG, DEBUG: 'drill:*', FORCE_COLOR: '0' });
    expect(JSON.parse(env.DRILL_PLAN!)).toEqual(plan);
    for (const name of ['DRILL_EVIDENCE_KEY', 'DRILL_EVIDENCE_SIGNING_KEY', 'DRILL_API_TOKEN', 'GITHUB_TOKEN', 'AWS_SECRET_ACCESS_KEY', 'SHELL']) {
      expect(env, name).not.toHaveProperty(name);
    }
    // An existing Route 53 zone: the drill process (only) gets the AWS credential chain.
    expect(drillProcessEnvironment(plan, parent, { aws: true }).AWS_SECRET_ACCESS_KEY).toBe(parent.AWS_SECRET_ACCESS_KEY);
    expect(childEnvironment({ from: parent })).not.toHaveProperty('AWS_SECRET_ACCESS_KEY');
    expect(env).not.toHaveProperty('DB_URL');
    expect(env.DOCKER_AUTH_CONFIG).toBe(parent.DOCKER_AUTH_CONFIG);
    // kind gets the engine's address, not the registry credentials.
    const kind = childEnvironment({ from: parent, pass: DOCKER_VARIABLES });
    expect(kind.DOCKER_HOST).toBe(parent.DOCKER_HOST);
    expect(kind).not.toHaveProperty('DOCKER_AUTH_CONFIG');
  });

  it('a program started by runCommand sees only its explicit environment', async () => {
    const name = 'DRILL_TEST_CHILD_ENV_SECRET';
    process.env[name] = 'must-not-reach-children';
    try {
      const { stdout } = await runCommand('env', [], { env: { PGCONNECT_TIMEOUT: '15' } });
      const names = stdout.trim().split('\n').map((line) => line.split('=')[0]);
      expect(names).toContain('PGCONNECT_TIMEOUT');
      expect(names).toContain('PATH');
      expect(stdout).not.toContain('must-not-reach-children');
      // Negative control: named, it gets through, so the check above can see it.
      const passed = await runCommand('env', [], { passEnv: [name] });
      expect(passed.stdout).toContain('must-not-reach-children');
    } finally {
      delete process.env[name];
    }
  });
});

describe('lint guards the child environments (eslint.config.js)', () => {
  const lint = async (code: string) => {
    const [result] = await new ESLint({ cwd: ROOT }).lintText(code, { filePath: path.join(ROOT, 'src/probe-child-env.ts') });
    return result!.messages.filter((m) => m.ruleId === 'no-restricted-syntax').map((m) => m.line);
  };

  it('flags process.env handed to a child, a spawn without env, and an env built by hand', async () => {
    const code = [
      "import { execFileSync, spawn } from 'node:child_process';",
      "import { childEnvironment } from './targets/process/child-environment.js';",
      "spawn('a', [], { env: process.env });",
      "spawn('a', [], { env: { ...process.env, X: '1' } });",
      "execFileSync('id', ['-u'], { encoding: 'utf8' });",
      "export const options = { cwd: '/', env: { ...process.env } };",
      "spawn('a', [], { env: childEnvironment({ set: { X: '1' } }) });",
      "export const one = { env: { PATH: process.env.PATH ?? '/bin' } };",
      '',
    ].join('\n');
    expect([...new Set(await lint(code))]).toEqual([3, 4, 5, 6]);
  });
});
