import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeLoopbackPort } from '../../../src/targets/postgres/free-port.js';
import { buildTruststreamBundle } from '../bundle.js';
import { richAccount, startTestDatabase, type TestDatabase } from './support/test-database.js';
import { call, eventually } from './support/test-service.js';

let dir: string;
let bundle: string;
let db: TestDatabase;
const children: ChildProcess[] = [];

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'truststream-bundle-'));
  bundle = (await buildTruststreamBundle(path.join(dir, 'truststream.mjs'))).file;
  db = await startTestDatabase('test-sut-bundle');
});
afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await db?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

interface Run {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

/** `node truststream.mjs ...` in the bundle's directory with exactly this environment (PATH and nothing else unless given). */
function run(args: string[], env: Record<string, string> = {}): Run {
  const child = spawn(process.execPath, [bundle, ...args], { cwd: dir, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

const lines = (text: string) => text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);

describe('the single-file bundle under plain node', () => {
  it('is one file in a directory with no node_modules anywhere up the tree', () => {
    expect(readdirSync(dir)).toEqual(['truststream.mjs']);
    expect(statSync(bundle).size).toBeGreaterThan(100_000);
    for (let d = dir; ; d = path.dirname(d)) {
      expect(existsSync(path.join(d, 'node_modules')), `${d}/node_modules would let the bundle cheat`).toBe(false);
      if (path.dirname(d) === d) break;
    }
  });

  it('refuses a missing or bad configuration: exit 2, an ERROR line naming the variable', async () => {
    const missing = run(['api']);
    expect(await missing.exited).toBe(2);
    expect(lines(missing.output())).toEqual([expect.objectContaining({ level: 'ERROR', variable: 'DATABASE_URL', msg: 'configuration: DATABASE_URL is not set' })]);

    const unknown = run(['api'], { DATABASE_URL: db.url, VERSION: '5.0.0' });
    expect(await unknown.exited).toBe(2);
    expect(lines(unknown.output())[0]).toMatchObject({ level: 'ERROR', variable: 'VERSION', msg: expect.stringContaining('known releases: 4.3.9, 4.4.0, 4.4.1, 4.4.2, 4.4.3, 4.4.4, 4.4.5') });

    const badMode = run(['cron'], { DATABASE_URL: db.url, VERSION: '4.4.0' });
    expect(await badMode.exited).toBe(2);
    expect(badMode.output()).toMatch(/unknown mode \\"cron\\"/);
  });

  it('4.4.1 exits 1 at start-up with an ERROR line (a supervisor restarts it: a crash loop)', async () => {
    const crash = run(['api'], { DATABASE_URL: db.url, VERSION: '4.4.1', PORT: '0' });
    expect(await crash.exited).toBe(1);
    expect(lines(crash.output())).toEqual([expect.objectContaining({ level: 'ERROR', version: '4.4.1', msg: expect.stringMatching(/release 4.4.1 failed to start/) })]);
  });

  it('serves the API against real PostgreSQL; operators manage tokens with `token create|revoke` (the token only on stdout, once)', async () => {
    const port = await freeLoopbackPort();
    const api = run(['api', '--instance', 'bundle-api'], { DATABASE_URL: db.url, VERSION: '4.4.0', PORT: String(port) });
    const url = `http://127.0.0.1:${port}`;
    const health = await eventually(() => call(`${url}/health`).catch(() => ({ status: 0, body: {} })), (r) => r.status === 200);
    expect(health.body).toMatchObject({ status: 'ok', version: '4.4.0', schemaVersion: '007' });

    const create = run(['token', 'create', '--name', 'ops'], { DATABASE_URL: db.url });
    expect(await create.exited).toBe(0);
    const token = /^(tst_[A-Za-z0-9_-]{43})$/m.exec(create.output())?.[1];
    expect(token).toBeDefined();
    expect(create.output().split(token!).length).toBe(2);
    const duplicate = run(['token', 'create', '--name', 'ops'], { DATABASE_URL: db.url });
    expect(await duplicate.exited).toBe(2);
    expect(duplicate.output()).toMatch(/an active token named ops exists; revoke it first/);

    const rich = await richAccount(db);
    const write = await call(`${url}/api/transfers`, { token, body: { fromAccount: rich.id, toAccount: rich.other, amount: '3.00', reference: 'canary-1-1' } });
    expect(write.status).toBe(201);

    const revoke = run(['token', 'revoke', '--name', 'ops'], { DATABASE_URL: db.url });
    expect(await revoke.exited).toBe(0);
    expect((await call(`${url}/api/transfers/${write.body.id}`, { token })).status).toBe(401);
    const again = run(['token', 'revoke', '--name', 'ops'], { DATABASE_URL: db.url });
    expect(await again.exited).toBe(2);

    api.child.kill('SIGTERM');
    expect(await api.exited).toBe(0);
    expect(api.output()).not.toContain(token!);
    expect(lines(api.output()).map((l) => l.msg)).toEqual(expect.arrayContaining(['listening', 'request', 'signal received', 'stopped']));
  });

  it('SIGTERM is graceful: a request in flight is answered, new connections are refused, exit 0', async () => {
    const port = await freeLoopbackPort();
    // 4.4.4 holds each request 700 ms: long enough to signal while one is in flight.
    const slow = run(['api'], { DATABASE_URL: db.url, VERSION: '4.4.4', PORT: String(port) });
    const url = `http://127.0.0.1:${port}`;
    await eventually(() => call(`${url}/livez`).catch(() => ({ status: 0 })), (r) => r.status === 200);
    const token = await db.token('graceful');
    const inFlight = call(`${url}/api/accounts/1`, { token });
    // Well inside the 700 ms the request is held, long after an idle server accepted it.
    await new Promise((r) => setTimeout(r, 300));
    slow.child.kill('SIGTERM');
    await eventually(async () => slow.output(), (o) => o.includes('shutting down'));
    await expect(call(`${url}/livez`)).rejects.toThrow();
    expect((await inFlight).status).toBe(200);
    expect(await slow.exited).toBe(0);
  });
});
