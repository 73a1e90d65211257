import { withClient } from './with-client.js';
import type { DataDirectory } from './data-directory.js';
import type { NativeInstance } from './native-instance.js';
import type { ConnectionInfo, PgInstance } from './types.js';

/**
 * A local copy of an external server. It runs like any native instance, but its roles are the
 * external server's, so it is reached as the URL's user and database, with the workspace's password
 * (set on the copy by setCopyPassword), rather than as `postgres`, which may not exist there.
 */
export class ExternalRestoredInstance implements PgInstance {
  readonly connection: ConnectionInfo;

  constructor(
    readonly local: NativeInstance,
    as: { user: string; database: string },
  ) {
    this.connection = { ...local.connection, user: as.user, database: as.database };
  }

  get name(): string {
    return this.local.name;
  }

  get dataDir(): string {
    return this.local.dataDir;
  }

  get dataDirectory(): DataDirectory {
    return this.local.dataDirectory;
  }

  logTail(lines?: number): string {
    return this.local.logTail(lines);
  }

  isRunning(): Promise<boolean> {
    return this.local.isRunning();
  }

  start(): Promise<void> {
    return this.local.start();
  }

  stop(): Promise<void> {
    return this.local.stop();
  }

  kill(): Promise<void> {
    return this.local.kill();
  }

  serverVersion(): Promise<string> {
    return withClient(this.connection, async (c) =>
      (await c.query<{ server_version: string }>('show server_version')).rows[0]!.server_version,
    );
  }
}
