import { randomBytes } from 'node:crypto';
import { sleep } from '../engine/clock.js';
import type { DrillContext } from '../engine/drill-context.js';
import { StepFailedError } from '../engine/errors.js';
import type { SmokeCheck, SmokeRun } from '../engine/journal-types.js';
import type { RecoveryStep } from '../scenario/schema.js';
import { ServiceClient, type ServiceReply } from '../workload/service-client.js';
import { WORKLOAD_ACCOUNTS } from '../workload/workload-accounts.js';

type SmokeSettings = Extract<RecoveryStep, { step: 'smoke' }>;

/** The user journey's transfer: small, between the drill's own smoke accounts (never short of funds, never touched by anything else). */
const JOURNEY_AMOUNT = '1.25';
/** A transfer of the seeded data set (ids start at 1): the "read" check reads data that existed before the drill. */
const SEEDED_TRANSFER = 1;

/**
 * Runbook "Post-Recovery Testing" (tests/smoke/*.sh) through the service, as a user would:
 * - health: GET /health answers 200 "ok" on every API endpoint (basic functionality);
 * - read: an account's balance and a seeded transfer through the API (basic functionality);
 * - journey: both balances, create a transfer, read it back, both balances moved by its amount;
 * - integration: the worker settled the journey's queue item within `workerWithin`.
 * Each check is timed and journaled (journal.smoke); the run fails naming every check that did.
 */
export async function runSmoke(ctx: DrillContext, step: SmokeSettings, phase: SmokeRun['phase']): Promise<SmokeRun> {
  const service = ctx.service;
  const api = new ServiceClient(service, 'api', () => service.token);
  const timeoutMs = step.requestTimeout;
  const get = (path: string, authenticated = true) => api.request('GET', path, { timeoutMs, authenticated, signal: ctx.signal });
  const checks: SmokeCheck[] = [];
  const start = ctx.clock.stamp();

  const check = async (name: SmokeCheck['name'], title: string, fn: () => Promise<Record<string, unknown>>): Promise<void> => {
    const at = ctx.clock.stamp();
    const began = performance.now();
    try {
      const detail = await fn();
      checks.push({ name, title, status: 'passed', start: at, ms: Math.round(performance.now() - began), detail });
    } catch (error) {
      ctx.signal.throwIfAborted();
      checks.push({ name, title, status: 'failed', start: at, ms: Math.round(performance.now() - began), error: error instanceof Error ? error.message : String(error) });
    }
  };

  await check('health', 'Basic functionality: GET /health on every API endpoint', async () => {
    const endpoints = await service.endpoints('api');
    if (endpoints.length === 0) throw new Error('the service has no API endpoint');
    const answers = await Promise.all(endpoints.map((endpoint) => api.request('GET', '/health', { timeoutMs, endpoint, signal: ctx.signal })));
    const bad = answers.filter((a) => a.status !== 200 || (a.body as { status?: string }).status !== 'ok');
    if (bad.length) throw new Error(bad.map((a) => `${a.endpoint.name}: ${describe(a)}`).join('; '));
    return { endpoints: answers.map((a) => ({ name: a.endpoint.name, status: a.status, version: (a.body as { version?: string }).version })) };
  });

  await check('read', 'Basic functionality: read an account and a seeded transfer', async () => {
    const account = expectStatus(await get(`/api/accounts/${WORKLOAD_ACCOUNTS.smokeFrom}`), 200, 'GET /api/accounts/:id');
    const transfer = expectStatus(await get(`/api/transfers/${SEEDED_TRANSFER}`), 200, 'GET /api/transfers/:id (seeded)');
    const readers = await service.endpoints('reader');
    const viaReader = readers.length
      ? expectStatus(await new ServiceClient(service, 'reader', () => service.token).request('GET', `/api/transfers/${SEEDED_TRANSFER}`, { timeoutMs, authenticated: true, signal: ctx.signal }), 200, 'GET /api/transfers/:id on a reader')
      : undefined;
    return { balance: (account.body as { balance?: string }).balance, transfer: (transfer.body as { id?: number }).id, ...(viaReader ? { reader: viaReader.endpoint.name } : {}) };
  });

  let created: number | undefined;
  await check('journey', 'User journey: create a transfer, read it back, balances add up', async () => {
    const balance = async (id: number) => cents((expectStatus(await get(`/api/accounts/${id}`), 200, `GET /api/accounts/${id}`).body as { balance: string }).balance);
    const [fromBefore, toBefore] = [await balance(WORKLOAD_ACCOUNTS.smokeFrom), await balance(WORKLOAD_ACCOUNTS.smokeTo)];
    const reference = `smoke-${Date.now()}-${randomBytes(4).toString('hex')}`;
    const body = { fromAccount: WORKLOAD_ACCOUNTS.smokeFrom, toAccount: WORKLOAD_ACCOUNTS.smokeTo, amount: JOURNEY_AMOUNT, reference };
    const posted = expectStatus(await api.request('POST', '/api/transfers', { body, timeoutMs, authenticated: true, signal: ctx.signal }), 201, 'POST /api/transfers');
    const id = (posted.body as { id: number }).id;
    created = id;
    const readBack = expectStatus(await get(`/api/transfers/${id}`), 200, `GET /api/transfers/${id}`).body as Record<string, unknown>;
    const mismatched = (['fromAccount', 'toAccount', 'amount', 'reference'] as const).filter((key) => readBack[key] !== body[key]);
    if (mismatched.length) throw new Error(`transfer ${id} read back differs from what was sent in ${mismatched.join(', ')}`);
    const [fromAfter, toAfter] = [await balance(WORKLOAD_ACCOUNTS.smokeFrom), await balance(WORKLOAD_ACCOUNTS.smokeTo)];
    const amount = cents(JOURNEY_AMOUNT);
    if (fromBefore - fromAfter !== amount || toAfter - toBefore !== amount) {
      throw new Error(
        `balances do not add up: account ${WORKLOAD_ACCOUNTS.smokeFrom} ${money(fromBefore)} -> ${money(fromAfter)}, account ${WORKLOAD_ACCOUNTS.smokeTo} ${money(toBefore)} -> ${money(toAfter)}, transfer ${JOURNEY_AMOUNT}`,
      );
    }
    return { transfer: id, reference, amount: JOURNEY_AMOUNT, from: { before: money(fromBefore), after: money(fromAfter) }, to: { before: money(toBefore), after: money(toAfter) } };
  });

  await check('integration', `Integration: the worker processed the transfer's queue item within ${step.workerWithin} ms`, async () => {
    if (created === undefined) throw new Error('not run: the journey created no transfer');
    const deadline = performance.now() + step.workerWithin;
    for (;;) {
      const queue = (expectStatus(await get(`/api/transfers/${created}`), 200, `GET /api/transfers/${created}`).body as { queue: { processedAt: string | null; outcome: string | null } | null }).queue;
      if (queue?.processedAt) {
        if (queue.outcome !== 'settled') throw new Error(`the worker processed transfer ${created} with outcome ${queue.outcome}`);
        return { transfer: created, processedAt: queue.processedAt, outcome: queue.outcome };
      }
      if (performance.now() >= deadline) throw new Error(`transfer ${created}'s queue item was not processed within ${step.workerWithin} ms (queue: ${JSON.stringify(queue)})`);
      await sleep(200, ctx.signal);
    }
  });

  const run: SmokeRun = { phase, start, end: ctx.clock.stamp(), checks };
  (ctx.recorder.journal.smoke ??= []).push(run);
  const failed = checks.filter((c) => c.status === 'failed');
  ctx.recorder.event('smoke', failed.length ? `smoke failed: ${failed.map((c) => c.name).join(', ')}` : `smoke passed: ${checks.map((c) => `${c.name} ${c.ms} ms`).join(', ')}`);
  return run;
}

/** As a recovery step: the run's checks are the output; a failed check fails the step, naming it. */
export async function smokeStep(ctx: DrillContext, step: SmokeSettings, phase: SmokeRun['phase'] = 'recover'): Promise<Record<string, unknown>> {
  const run = await runSmoke(ctx, step, phase);
  const failed = run.checks.filter((c) => c.status === 'failed');
  if (failed.length) {
    throw new StepFailedError('SMOKE_FAILED', `smoke check${failed.length === 1 ? '' : 's'} failed: ${failed.map((c) => `${c.name} (${c.error})`).join('; ')}`);
  }
  return { checks: run.checks.map((c) => ({ name: c.name, status: c.status, ms: c.ms })) };
}

function expectStatus(reply: ServiceReply, status: number, what: string): ServiceReply {
  if (reply.status !== status) throw new Error(`${what} on ${reply.endpoint.name}: ${describe(reply)}, expected ${status}`);
  return reply;
}

function describe(reply: ServiceReply): string {
  const body = reply.body as { error?: string; reason?: string } | string;
  const why = typeof body === 'object' && body !== null ? (body.error ?? body.reason) : undefined;
  return `HTTP ${reply.status}${why ? ` ${why}` : ''}`;
}

/** "1234.56" -> 123456: balances compared in whole cents, never in floating point. */
function cents(amount: string): number {
  const m = /^(-?)(\d+)(?:\.(\d{1,2}))?$/.exec(amount);
  if (!m) throw new Error(`not an amount: ${amount}`);
  return (m[1] ? -1 : 1) * (Number(m[2]) * 100 + Number((m[3] ?? '0').padEnd(2, '0')));
}

function money(c: number): string {
  const sign = c < 0 ? '-' : '';
  const abs = Math.abs(c);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}
