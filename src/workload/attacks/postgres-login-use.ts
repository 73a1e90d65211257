import pg from 'pg';
import type { ConnectionInfo } from '../../targets/postgres/types.js';
import { isLoopbackHost, type CredentialUse, type UseOutcome } from './credential-use.js';
import { endClient } from '../../targets/postgres/end-client.js';

/** The query the attacker runs: a read of the service's data, as a thief would take it. */
const QUERY = 'select count(*) from accounts';

/** PostgreSQL refused the login: wrong password (28P01), or a role that may not log in / no pg_hba rule (28000). */
const LOGIN_REFUSED = new Set(['28P01', '28000']);
/** The server ended the session: pg_terminate_backend (57P01 admin_shutdown). */
const TERMINATED = '57P01';

function codeOf(error: unknown): string | undefined {
  return (error as { code?: string } | undefined)?.code;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * A leaked database password used as its thief would: log in with it and read, then keep that
 * session and read through it again each time, logging in anew only once the session is gone.
 * So a password change alone does not stop it while its session lives; terminating the role's
 * sessions does. A query on the session: allowed; the session terminated by the server, or a
 * login refused: rejected; anything else (the server down, a timeout): proves neither.
 */
export class PostgresLoginUse implements CredentialUse {
  private session: pg.Client | undefined;
  /** Set by the session's error event: the server ended it while it was idle. */
  private sessionEnded: unknown;

  constructor(
    private readonly connection: ConnectionInfo,
    private readonly timeoutMs: number,
  ) {}

  get description(): string {
    return `login as ${this.connection.user} and ${QUERY}`;
  }

  async use(): Promise<UseOutcome> {
    const endpoint = `${this.connection.host}:${this.connection.port}`;
    if (!isLoopbackHost(this.connection.host)) return { outcome: 'error', endpoint, error: `${endpoint} is not on loopback: not contacted` };
    if (this.session) return this.query(this.session, endpoint);
    const client = new pg.Client({ ...this.connection, connectionTimeoutMillis: this.timeoutMs, query_timeout: this.timeoutMs });
    // The first error says why (57P01 from the server); the socket closing follows it.
    client.on('error', (error) => {
      this.sessionEnded ??= error;
    });
    try {
      await client.connect();
    } catch (error) {
      await endClient(client);
      const refused = LOGIN_REFUSED.has(codeOf(error) ?? '');
      return { outcome: refused ? 'rejected' : 'error', endpoint, error: `login: ${messageOf(error)}` };
    }
    this.session = client;
    this.sessionEnded = undefined;
    return this.query(client, `${endpoint} (new session)`);
  }

  private async query(client: pg.Client, endpoint: string): Promise<UseOutcome> {
    try {
      await client.query(QUERY);
      return { outcome: 'allowed', endpoint };
    } catch (error) {
      const ended = this.sessionEnded ?? error;
      await this.drop();
      // Only the server's own word counts: a session lost because the server crashed says nothing about the credential.
      const terminated = codeOf(ended) === TERMINATED || codeOf(error) === TERMINATED;
      return { outcome: terminated ? 'rejected' : 'error', endpoint, error: `session: ${messageOf(ended)}` };
    }
  }

  private async drop(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    if (session) await endClient(session);
  }

  async close(): Promise<void> {
    await this.drop();
  }
}
