import { createHash } from 'node:crypto';
import type { RecoveredLedger, Stamp } from '../engine/journal-types.js';
import type { ConnectionInfo } from '../targets/postgres/types.js';
import { withClient } from '../targets/postgres/with-client.js';
import type { ServiceEndpoints } from '../targets/service/types.js';
import type { CanaryChannel, CanaryReceipt } from './canary-channel.js';
import type { DatabaseRouter } from './database-router.js';
import { ServiceClient, type TokenSource } from './service-client.js';
import { WORKLOAD_ACCOUNTS } from './workload-accounts.js';

const REFERENCE = /^canary-(\d+)-(\d+)$/;
const REQUEST_TIMEOUT_MS = 5000;

/** What the canary transfer (epoch, seq) is: every field follows from the two, so a read-back can tell whether the row is what was sent. */
export function canaryTransfer(epoch: number, seq: number): { reference: string; fromAccount: number; toAccount: number; amount: string } {
  const cents = 1 + ((seq * 7 + epoch) % 99);
  return {
    reference: `canary-${epoch}-${seq}`,
    fromAccount: WORKLOAD_ACCOUNTS.canaryFrom,
    toAccount: WORKLOAD_ACCOUNTS.canaryTo,
    amount: `0.${String(cents).padStart(2, '0')}`,
  };
}

/** sha256 of a transfer's content as the canary writes it (and as it is read back). */
export function canaryChecksum(t: { reference: string; fromAccount: number | string; toAccount: number | string; amount: string }): string {
  return createHash('sha256').update(`${t.reference}|${t.fromAccount}|${t.toAccount}|${t.amount}`).digest('hex');
}

/**
 * The canary through the service's API: each write is POST /api/transfers with reference
 * canary-<epoch>-<seq> and a deterministic amount between the drill's two canary accounts, sent
 * to the next API endpoint in turn. Acknowledged = the client saw 201 (created) or 200 (the same
 * reference replayed). Read back with SQL from the recovered database (the ground truth), each row
 * checked against what (epoch, seq) says it must be.
 */
export class ApiCanaryChannel implements CanaryChannel {
  readonly backsOffWhileFailing = false;
  private readonly client: ServiceClient;

  constructor(
    service: ServiceEndpoints,
    token: TokenSource,
    private readonly router: DatabaseRouter,
  ) {
    this.client = new ServiceClient(service, 'api', token);
  }

  async write(id: number, epoch: number): Promise<CanaryReceipt> {
    const transfer = canaryTransfer(epoch, id);
    const reply = await this.client.request('POST', '/api/transfers', { body: transfer, timeoutMs: REQUEST_TIMEOUT_MS, authenticated: true });
    if (reply.status !== 201 && reply.status !== 200) {
      const error = typeof reply.body === 'object' && reply.body !== null ? (reply.body as { error?: string }).error : undefined;
      throw new Error(`POST /api/transfers on ${reply.endpoint.name}: HTTP ${reply.status}${error ? ` ${error}` : ''}`);
    }
    const body = reply.body as { createdAt?: string };
    return { checksum: canaryChecksum(transfer), serverWall: body.createdAt ?? new Date().toISOString() };
  }

  async highestId(): Promise<number> {
    return withClient(this.router.connection, async (c) => {
      const { rows } = await c.query<{ max: string | null }>(
        `select max((regexp_match(reference, '^canary-[0-9]+-([0-9]+)$'))[1]::bigint)::text as max from transfers where reference like 'canary-%'`,
      );
      return Number(rows[0]!.max ?? 0);
    });
  }

  async reset(): Promise<void> {}

  readBack(connection: ConnectionInfo, instance: string, at: () => Stamp): Promise<RecoveredLedger> {
    return withClient(connection, async (c) => {
      const { rows } = await c.query<{ reference: string; from_account: string; to_account: string; amount: string; created_at: Date }>(
        `select reference, from_account::text, to_account::text, amount::text, created_at from transfers where reference like 'canary-%' order by id`,
      );
      const recovered = rows.flatMap((r) => {
        const m = REFERENCE.exec(r.reference);
        if (!m) return [];
        const epoch = Number(m[1]);
        const id = Number(m[2]);
        const stored = canaryChecksum({ reference: r.reference, fromAccount: r.from_account, toAccount: r.to_account, amount: r.amount });
        return [{ id, epoch, checksumOk: stored === canaryChecksum(canaryTransfer(epoch, id)), committedAt: r.created_at.toISOString() }];
      });
      recovered.sort((a, b) => a.epoch - b.epoch || a.id - b.id);
      return { readAt: at(), instance, rows: recovered };
    });
  }
}
