import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { afterAll, describe, expect, it } from 'vitest';
import { loadScenarioFile } from '../../src/scenario/loader.js';
import { fault, recoveryStep, scenarioSchema } from '../../src/scenario/schema.js';
import { needsOf } from '../../src/scenario/target-needs.js';
import { DURATION_PATTERN } from '../../src/scenario/duration.js';
import { isDuration, unwrap } from '../../src/scenario/schema-walk.js';
import { validationError } from './helpers.js';

// Bad input ends in placed problems (exit 2), never in a crash, a hang or unbounded reading.
const dir = mkdtempSync(path.join(os.tmpdir(), 'drill-input-limits-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
function file(text: string, name = `case-${++n}.yaml`): string {
  const at = path.join(dir, name);
  writeFileSync(at, text);
  return at;
}

/** A valid PostgreSQL scenario with `extra` lines appended (later keys of a mapping must be new). */
const PG_HEAD = [
  'name: limits',
  'title: t',
  'runbook: r',
  'severity: P1',
  'targets: { postgres: { provider: native } }',
  'workload:',
  '  probes: [{ type: sql, name: p, query: select 1 }]',
];
const pgScenario = (...rest: string[]) => [...PG_HEAD, ...rest, ''].join('\n');
const FAULT = 'faults: [{ type: pg-fat-finger, statement: delete, table: transfers }]';
const RECOVERY = 'recovery: [{ step: stop-writes }]';

const problems = async (at: string) => (await validationError(loadScenarioFile(at))).issues.map((i) => `${i.line}:${i.column} ${i.keyPath}: ${i.message}`);

describe('YAML aliases and nesting', () => {
  it('a self-referencing alias is a placed problem, not a stack overflow', async () => {
    for (const [text, where, anchor] of [
      ['a: &a [*a]\n', '1:8 a[0]', 'a'],
      ['a: &x {b: *x}\n', '1:11 a.b', 'x'],
      ['x: &m\n  k: 1\n  <<: *m\n', '3:7 x["<<"]', 'm'],
      ['a: &a [&b [*a, *b]]\n', '1:12 a[0][0]', 'a'],
    ] as const) {
      const issues = await problems(file(text));
      expect(issues[0], text).toBe(`${where}: alias *${anchor} is inside the value &${anchor} names, which would make it infinitely deep; copy the values instead`);
    }
  });

  it('an alias to an anchor that does not exist, and a key that is not text, are placed', async () => {
    expect(await problems(file('a: 1\nb: *nope\n'))).toEqual(['2:4 b: alias *nope names no anchor &nope written before it']);
    expect(await problems(file('? [a]\n: b\n'))).toEqual(['1:3 : a key must be plain text (a name), not a list, mapping or alias']);
  });

  it('shared anchors still work (merge keys, repeated aliases), and deep nesting is refused', async () => {
    const shared = file(pgScenario('faults:', '  - &f { type: pg-fat-finger, statement: delete, table: transfers }', '  - *f', RECOVERY));
    expect((await loadScenarioFile(shared)).scenario.faults).toHaveLength(2);
    const deep = await problems(file(`a: ${'['.repeat(40)}${']'.repeat(40)}\n`));
    expect(deep).toEqual([expect.stringMatching(/^1:\d+ a(\[0\]){31}: nested more than 32 levels deep/)]);
    const deeper = await problems(file(`a: ${'['.repeat(20_000)}${']'.repeat(20_000)}\n`));
    expect(deeper).toEqual([expect.stringMatching(/nested far too deeply/)]);
  });
});

describe('scenario sources: regular files of at most 1 MiB', () => {
  it('refuses a device, a named pipe and a directory without reading (or waiting on) them', async () => {
    const fifo = path.join(dir, 'pipe.yaml');
    execFileSync('mkfifo', [fifo]);
    const sub = path.join(dir, 'sub.yaml');
    mkdirSync(sub);
    for (const [at, why] of [
      ['/dev/zero', 'is a device, not a regular file'],
      [fifo, 'is a named pipe, not a regular file'],
      [sub, 'is a directory, not a file'],
    ]) {
      const error = await validationError(loadScenarioFile(at!));
      expect(error.issues).toEqual([expect.objectContaining({ file: at, line: 0, message: expect.stringContaining(why!) })]);
    }
  });

  it('refuses a file over 1 MiB, saying how large it is', async () => {
    const big = file(pgScenario(FAULT, RECOVERY, `description: "${'x'.repeat(1024 * 1024)}"`));
    expect((await validationError(loadScenarioFile(big))).issues[0]!.message).toBe('is 1 MiB or more, larger than the 1 MiB a drill reads; is this the right file?');
    const justUnder = file(pgScenario(FAULT, RECOVERY, `description: "${'x'.repeat(1024 * 1024 - 400)}"`));
    await expect(loadScenarioFile(justUnder)).resolves.toBeDefined();
  });
});

describe('durations are bounded per key', () => {
  it('refuses what a timer cannot honour or a zero that would spin, and keeps zeros that mean something', async () => {
    const issues = await problems(
      file(
        pgScenario(
          FAULT,
          'recovery: [{ step: stop-writes, timeout: 25h }]',
          'timeout: 600h',
        ).replace('query: select 1 }', 'query: select 1, interval: 0ms, timeout: 0s }'),
      ),
    );
    expect(issues).toEqual([
      '7:61 workload.probes[0].interval: must be at least 10ms here',
      '7:75 workload.probes[0].timeout: must be more than 0 here',
      '9:42 recovery[0].timeout: must be at most 24h here (a drill runs for at most 24h)',
      '10:10 timeout: must be at most 24h here (a drill runs for at most 24h)',
    ]);
    const zeros = file(pgScenario(FAULT, RECOVERY, 'expect: { rpo: 0s, stability: 0s }', 'baseline: { backupAfter: 0s }'));
    expect((await loadScenarioFile(zeros)).scenario.expect).toMatchObject({ rpo: 0, stability: 0 });
    const hugeNumber = await problems(file(pgScenario(FAULT, RECOVERY, `expect: { rto: ${'9'.repeat(400)}h }`)));
    expect(hugeNumber).toEqual([expect.stringMatching(/expect\.rto: must be at most 24h here/)]);
  });
});

describe('every duration key is bounded', () => {
  it('no duration in the schema is made without duration(WAIT|INTERVAL|SPAN|TOLERANCE)', () => {
    const unbounded: string[] = [];
    let durations = 0;
    const walk = (schema: z.core.$ZodType, at: string, seen: Set<object>): void => {
      if (seen.has(schema)) return;
      seen.add(schema);
      const def = schema._zod.def as unknown as Record<string, unknown> & { type: string };
      if (def.type === 'pipe') {
        const input = (def.in as z.core.$ZodType)._zod.def as unknown as { type: string; checks?: Array<{ _zod: { def: { pattern?: RegExp } } }> };
        if (input.type === 'string' && input.checks?.some((c) => c._zod.def.pattern?.source === new RegExp(DURATION_PATTERN).source)) {
          durations += 1;
          if (!isDuration(schema)) unbounded.push(at);
          return;
        }
      }
      const next = (child: unknown, key: string) => child && walk(child as z.core.$ZodType, key, seen);
      if (def.type === 'object') for (const [key, child] of Object.entries(def.shape as Record<string, unknown>)) next(child, `${at}.${key}`);
      if (def.type === 'array') next(def.element, `${at}[]`);
      if (def.type === 'union') (def.options as unknown[]).forEach((o, i) => next(o, `${at}|${i}`));
      for (const key of ['innerType', 'in', 'out']) next(def[key], at);
    };
    walk(scenarioSchema, '', new Set());
    expect(durations).toBeGreaterThan(20);
    expect(unbounded).toEqual([]);
  });
});

describe('names fit a directory name', () => {
  it('a scenario name becomes reports/<stamp>-<name>: at most 200 characters', async () => {
    const long = await problems(file(pgScenario(FAULT, RECOVERY).replace('name: limits', `name: ${'a'.repeat(5000)}`)));
    expect(long).toEqual(['1:7 name: needs at most 200 characters']);
    await expect(loadScenarioFile(file(pgScenario(FAULT, RECOVERY).replace('name: limits', `name: ${'a'.repeat(200)}`)))).resolves.toBeDefined();
  });
});

describe('targets.postgres.image', () => {
  const withImage = (provider: string, image: string) =>
    file(pgScenario(FAULT, RECOVERY).replace('targets: { postgres: { provider: native } }', `targets: { postgres: { provider: ${provider}, image: "${image}" } }`));

  it('is an image reference of bounded length, for the providers that run one', async () => {
    await expect(loadScenarioFile(withImage('testcontainers', 'registry.example.com:5000/team/postgres:15@sha256:abc'))).resolves.toBeDefined();
    await expect(loadScenarioFile(withImage('auto', 'drill-postgres:15-bookworm'))).resolves.toBeDefined();
    expect(await problems(withImage('testcontainers', 'postgres:15; rm -rf /'))).toEqual([
      '5:57 targets.postgres.image: "postgres:15; rm -rf /" is not valid: an image reference like postgres:15-alpine or registry.example.com/team/postgres:15',
    ]);
    expect(await problems(withImage('testcontainers', `p${'a'.repeat(600)}`))).toEqual(['5:57 targets.postgres.image: needs at most 512 characters']);
  });

  it('is refused where no container runs it (native, external), at the key', async () => {
    expect(await problems(withImage('native', 'postgres:15'))).toEqual([
      '5:42 targets.postgres.image: an image is run by provider: testcontainers (or auto) only; remove it or change the provider (now native)',
    ]);
  });
});

describe('covers: ids', () => {
  it('have the form of a procedure id, of bounded length', async () => {
    const id = (text: string) => file(pgScenario(FAULT, RECOVERY, `covers: ["${text}"]`));
    await expect(loadScenarioFile(id('recovery-validation/data-integrity-verification/data-consistency-checks#check-for-data-corruption'))).resolves.toBeDefined();
    expect(await problems(id(`a/${'b'.repeat(1000)}#c`))).toEqual(['10:10 covers[0]: needs at most 1000 characters']);
    expect((await problems(id('Scenario 2#stop')))[0]).toMatch(/^10:10 covers\[0\]: .*a procedure id like/);
  });
});

describe('tables, indexes and columns are the data set\'s', () => {
  it('names a table, index or column the drill\'s data set does not have, with the ones it has', async () => {
    const issues = await problems(
      file(
        pgScenario(
          'faults:',
          '  - { type: pg-fat-finger, statement: delete, table: transfer }',
          '  - { type: pg-index-corruption, index: transfers_idx }',
          '  - { type: pg-bad-migration, change: { kind: drop-column, table: accounts, column: ownr } }',
          '  - { type: pg-bad-migration, change: { kind: add-required-column, table: accounts, column: owner } }',
          'recovery: [{ step: reindex, indexes: [accounts_pkey, nope] }]',
        ),
      ),
    );
    expect(issues).toEqual([
      expect.stringMatching(/^9:54 faults\[0\]\.table: the drill's data set has no table "transfer"; its tables: accounts, transfers, drill_canary, api_tokens, transfer_queue, service_heartbeats \(the drill creates its data set in its own database "drill" on every provider, external ones included\)$/),
      expect.stringMatching(/^10:41 faults\[1\]\.index: the drill's data set has no index "transfers_idx"; its indexes: accounts_pkey, transfers_pkey, /),
      '11:85 faults[2].change.column: table accounts has no column "ownr"; its columns: id, owner, balance',
      '12:93 faults[3].change.column: table accounts already has a column "owner"; choose a new name',
      expect.stringMatching(/^13:54 recovery\[0\]\.indexes\[1\]: the drill's data set has no index "nope"/),
    ]);
    const error = await validationError(loadScenarioFile(file(pgScenario('faults: [{ type: pg-fat-finger, statement: delete, table: transfer }]', RECOVERY))));
    expect(error.issues[0]!.suggestion).toBe('transfers');
  });
});

describe('what a fault, step or probe needs of the targets is declared on its schema variant', () => {
  it('every option of the fault, step and probe unions declares its needs', () => {
    const probe = (scenarioSchema.shape.workload.shape.probes as unknown as z.ZodArray<z.ZodDiscriminatedUnion>).element;
    const verify = (unwrap(scenarioSchema.shape.verify) as unknown as z.ZodArray<z.ZodDiscriminatedUnion>).element;
    for (const union of [fault, recoveryStep, probe, verify] as z.ZodDiscriminatedUnion[]) {
      for (const option of union.options) expect(needsOf(option as z.core.$ZodType), JSON.stringify((option as z.ZodObject).shape.type?._zod.def ?? (option as z.ZodObject).shape.step?._zod.def)).toBeDefined();
    }
  });

  it('a pg fault or step without targets.postgres, and a k8s one without targets.kubernetes, are invalid', async () => {
    const k8sOnly = [
      'name: needs',
      'title: t',
      'runbook: r',
      'severity: P1',
      'targets: { kubernetes: { provider: local } }',
      'workload:',
      '  probes: [{ type: http, name: p, url: "http://127.0.0.1:8080/" }, { type: sql, name: q, query: select 1 }]',
      FAULT,
      'recovery: [{ step: pitr-restore, target: latest }, { step: promote-replica }, { step: k8s-rollout-undo }]',
      '',
    ].join('\n');
    expect(await problems(file(k8sOnly))).toEqual([
      '7:76 workload.probes[1].type: sql acts on PostgreSQL: add targets.postgres (e.g. postgres: {provider: auto})',
      '8:18 faults[0].type: pg-fat-finger acts on PostgreSQL: add targets.postgres (e.g. postgres: {provider: auto})',
      '9:20 recovery[0].step: pitr-restore acts on PostgreSQL: add targets.postgres (e.g. postgres: {provider: auto})',
      '9:60 recovery[1].step: promote-replica acts on PostgreSQL: add targets.postgres (e.g. postgres: {provider: auto})',
    ]);
    const pgOnly = pgScenario(FAULT, 'recovery: [{ step: k8s-rollout-undo }, { step: promote-replica }]');
    expect(await problems(file(pgOnly))).toEqual([
      '9:20 recovery[0].step: k8s-rollout-undo acts on Kubernetes: add targets.kubernetes (e.g. kubernetes: {provider: auto})',
      '9:48 recovery[1].step: needs a streaming replica: set targets.postgres.replicas: 1 or more',
    ]);
  });
});

describe('files a scenario names are checked by validate', () => {
  const k8s = (kubernetes: string) =>
    [
      'name: files',
      'title: t',
      'runbook: r',
      'severity: P1',
      `targets: { kubernetes: ${kubernetes} }`,
      'workload:',
      '  probes: [{ type: k8s-ready, name: api, endpoints: truststream-api }]',
      'faults: [{ type: k8s-pod-kill, selector: app=truststream-api }]',
      'recovery: [{ step: k8s-rollout-status }]',
      '',
    ].join('\n');
  const kubeconfig = file(
    'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]\nusers: [{name: u, user: {}}]\n' +
      'contexts: [{name: drills, context: {cluster: c, user: u}}, {name: prod, context: {cluster: c, user: u}}]\ncurrent-context: prod\n',
    'config',
  );

  it('manifests: missing, or a document the drill cannot deploy, relative to the scenario file', async () => {
    expect(await problems(file(k8s('{ provider: local, manifests: no-such-dir }')))).toEqual([
      `5:54 targets.kubernetes.manifests: ${path.join(dir, 'no-such-dir')} does not exist; give a YAML file or a directory of them`,
    ]);
    file('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: prod}\n', 'sut.yaml');
    expect(await problems(file(k8s('{ provider: local, manifests: sut.yaml }')))).toEqual([
      `5:54 targets.kubernetes.manifests: ${path.join(dir, 'sut.yaml')}: line 5: prod is a Namespace; the drill places everything in its own namespace, remove it`,
    ]);
  });

  it('kubeconfig: the file, the context in it, and allowedContexts', async () => {
    const base = '{ provider: kubeconfig, namespace: drills'; // the kubeconfig is relative to the scenario
    expect(await problems(file(k8s(`${base}, kubeconfig: missing }`)))).toEqual([
      `5:79 targets.kubernetes.kubeconfig: kubeconfig ${path.join(dir, 'missing')}: does not exist (a relative path is read from the scenario file's directory)`,
    ]);
    expect(await problems(file(k8s(`${base}, kubeconfig: config, context: staging }`)))).toEqual([
      `5:96 targets.kubernetes.context: kubeconfig ${kubeconfig} has no context "staging"; it has: drills, prod`,
    ]);
    expect(await problems(file(k8s(`${base}, kubeconfig: config, allowedContexts: [drills] }`)))).toEqual([
      `5:104 targets.kubernetes.allowedContexts: context "prod" (the current-context of kubeconfig ${kubeconfig}) is not in allowedContexts (drills); name an allowed context, or add it only if its cluster is meant for drills`,
    ]);
    await expect(loadScenarioFile(file(k8s(`${base}, kubeconfig: config, context: drills, allowedContexts: [drills] }`)))).resolves.toBeDefined();
    expect(await problems(file(k8s('{ provider: local, allowedContexts: [drills] }')))).toEqual([
      '5:43 targets.kubernetes.allowedContexts: only a kubeconfig cluster has contexts to allow; remove it, or set provider: kubeconfig',
    ]);
  });

  it('a path from an environment variable is checked but not shown', async () => {
    const at = file(k8s('{ provider: kubeconfig, namespace: drills, kubeconfig: "${DRILL_LIMITS_KUBECONFIG}" }'));
    const error = await validationError(loadScenarioFile(at, { env: { DRILL_LIMITS_KUBECONFIG: '/srv/secret-place/kubeconfig' } }));
    expect(error.issues.map((i) => i.message)).toEqual(['kubeconfig (the path from the environment): does not exist (a relative path is read from the scenario file\'s directory)']);
    expect(error.message).not.toContain('secret-place');
  });
});
