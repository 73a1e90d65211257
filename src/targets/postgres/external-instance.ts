import { EnvironmentError, InputError } from '../../engine/errors.js';
import { withClient } from './with-client.js';
import { describeConnection, scrubPassword } from './external-url.js';
import type { ConnectionInfo, PgInstance } from './types.js';

/**
 * A server the harness reaches only over SQL. It cannot stop, start or crash it, and says so; when
 * the server is not a drill target it refuses first, as an input error, so nothing is attempted.
 */
export class ExternalInstance implements PgInstance {
  readonly name = 'primary';
  /** On another machine, reached only over SQL: on-disk faults and offline checks need native or testcontainers. */
  readonly dataDirectory = undefined;

  constructor(
    readonly connection: ConnectionInfo,
    private readonly drillTarget: boolean,
  ) {}

  async isRunning(): Promise<boolean> {
    try {
      await withClient(this.connection, (c) => c.query('select 1'), 5000);
      return true;
    } catch {
      return false;
    }
  }

  start(): Promise<void> {
    return this.refuse('start');
  }

  stop(): Promise<void> {
    return this.refuse('stop');
  }

  kill(): Promise<void> {
    return this.refuse('kill');
  }

  async serverVersion(): Promise<string> {
    try {
      return await withClient(this.connection, async (c) =>
        (await c.query<{ server_version: string }>('show server_version')).rows[0]!.server_version,
      );
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      // No `cause`: the original error is not scrubbed, and causes get printed.
      throw new EnvironmentError(
        'EXTERNAL_UNREACHABLE',
        `cannot reach the external PostgreSQL at ${describeConnection(this.connection)}: ${scrubPassword(why, this.connection)}. ` +
          'Check targets.postgres.url and that the server accepts connections from this machine.',
      );
    }
  }

  private async refuse(what: 'start' | 'stop' | 'kill'): Promise<never> {
    const where = describeConnection(this.connection);
    if (!this.drillTarget) {
      throw new InputError(
        'NOT_A_DRILL_TARGET',
        `${what} of the external PostgreSQL at ${where} is destructive and it is not marked as a drill target; ` +
          'set targets.postgres.drillTarget: true only for a server you are prepared to lose. Nothing was touched.',
      );
    }
    throw new EnvironmentError(
      'EXTERNAL_NOT_CONTROLLABLE',
      `the harness cannot ${what} the external PostgreSQL at ${where}: it reaches an external server only over SQL. ` +
        'Use provider: native or testcontainers for drills that stop, start or crash the server.',
    );
  }
}
