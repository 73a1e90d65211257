import type { ConnectionInfo, PgInstance } from '../targets/postgres/types.js';
import type { DatabaseLink } from './database-link.js';

/**
 * Which instance the application talks to: the drill's stand-in for DATABASE_URL. The writer and
 * the probes ask it on every (re)connect, so switching it is how traffic moves to a recovered
 * instance.
 *
 * `connection` is the instance itself, for the harness's own work (snapshots, integrity checks,
 * recovery steps, read-back); `applicationConnection` is the path the application takes, through
 * the `link` when the scenario put one in between (targets.network), so a network fault degrades
 * the application's traffic and never the harness's judgement of it.
 */
export class DatabaseRouter {
  private listeners: Array<(instance: PgInstance) => void> = [];
  private attached: DatabaseLink | undefined;

  constructor(private instance: PgInstance) {}

  get current(): PgInstance {
    return this.instance;
  }

  get connection(): ConnectionInfo {
    return { ...this.instance.connection, database: 'drill' };
  }

  /** The application's connection: through the link when there is one, else the instance's. */
  get applicationConnection(): ConnectionInfo {
    const link = this.attached;
    return link ? { ...this.connection, host: link.listen.host, port: link.listen.port } : this.connection;
  }

  /** The network link in front of the database (a capability: absent unless targets.network put one there). */
  get link(): DatabaseLink | undefined {
    return this.attached;
  }

  attachLink(link: DatabaseLink): void {
    this.attached = link;
  }

  /** Moves the application to `instance`; a link is moved first (`link.follow`) by the caller that switches. */
  switchTo(instance: PgInstance): void {
    this.instance = instance;
    for (const listener of this.listeners) listener(instance);
  }

  onSwitch(listener: (instance: PgInstance) => void): void {
    this.listeners.push(listener);
  }
}
