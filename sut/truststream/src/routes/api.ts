import { inTransaction } from '../database.js';
import { findAccount } from '../domain/accounts.js';
import { authenticate, type Caller } from '../domain/authenticate.js';
import { parseTransferInput } from '../domain/transfer-input.js';
import { createTransfer, findTransfer } from '../domain/transfers.js';
import { HttpError, type Reply, type Request, type Route } from '../http/types.js';
import type { ServiceDeps } from '../service-deps.js';

const UNAUTHORIZED: Reply = { status: 401, body: { error: 'unauthorized' }, headers: { 'www-authenticate': 'Bearer realm="truststream"' } };

/**
 * /api/*: every request carries `Authorization: Bearer <token>`. The api mode serves reads and
 * writes; the reader mode serves reads and answers writes with 405 (its database role could not
 * write anyway).
 */
export function apiRoutes(deps: ServiceDeps): Route[] {
  const { config, pool } = deps;
  const authenticated = (handler: (request: Request, caller: Caller) => Promise<Reply>) => async (request: Request) => {
    const caller = await authenticate(pool, headerValue(request.headers.authorization));
    if (!caller) return UNAUTHORIZED;
    const reply = await handler(request, caller);
    return { ...reply, logFields: { ...reply.logFields, tokenName: caller.tokenName } };
  };

  const reads: Route[] = [
    {
      method: 'GET',
      pattern: '/api/transfers/:id',
      handler: authenticated(async (request) => {
        const transfer = await findTransfer(pool, idParam(request));
        return transfer ? { status: 200, body: transfer } : { status: 404, body: { error: 'transfer_not_found' } };
      }),
    },
    {
      method: 'GET',
      pattern: '/api/accounts/:id',
      handler: authenticated(async (request) => {
        const account = await findAccount(pool, idParam(request));
        return account ? { status: 200, body: account } : { status: 404, body: { error: 'account_not_found' } };
      }),
    },
  ];
  if (config.mode === 'reader') {
    return [
      ...reads,
      {
        method: 'POST',
        pattern: '/api/transfers',
        handler: async () => ({ status: 405, body: { error: 'read_only_replica', message: 'this is a reader instance; send writes to the api' }, headers: { allow: 'GET' } }),
      },
    ];
  }
  return [
    ...reads,
    {
      method: 'POST',
      pattern: '/api/transfers',
      handler: authenticated(async (request): Promise<Reply> => {
        if (config.readOnly) return { status: 503, body: { error: 'read_only' }, logLevel: 'warn' };
        const parsed = parseTransferInput(await request.readJson());
        if (!parsed.ok) return { status: 400, body: { error: 'bad_request', problems: parsed.problems } };
        const outcome = await inTransaction(pool, (tx) => createTransfer(tx, parsed.input, config.release.writesMissingColumn, config.release.stampsWithAppClock ? new Date() : undefined));
        // Every reply below is sent after COMMIT: a 201 is an acknowledged write.
        switch (outcome.kind) {
          case 'created':
            return { status: 201, body: outcome.transfer, headers: { location: `/api/transfers/${outcome.transfer.id}` }, logFields: { transferId: outcome.transfer.id } };
          case 'replayed':
            return { status: 200, body: outcome.transfer, headers: { 'idempotent-replayed': 'true' }, logFields: { transferId: outcome.transfer.id } };
          case 'reference-conflict':
            return { status: 409, body: { error: 'reference_conflict', message: `reference ${parsed.input.reference} names transfer ${outcome.transfer.id} with other accounts or amount`, transferId: outcome.transfer.id } };
          case 'insufficient-funds':
            return { status: 409, body: { error: 'insufficient_funds', balance: outcome.balance } };
          case 'account-not-found':
            return { status: 422, body: { error: 'account_not_found', account: outcome.account } };
        }
      }),
    },
  ];
}

function idParam(request: Request): number {
  const raw = request.params.id ?? '';
  const id = Number(raw);
  if (!/^\d{1,15}$/.test(raw) || id <= 0) throw new HttpError({ status: 400, body: { error: 'bad_request', problems: ['id: expected a positive integer'] } });
  return id;
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
