import type { ConnectionInfo, PgInstance } from '../targets/postgres/types.js';

/**
 * Which instance the application talks to: the drill's stand-in for DATABASE_URL. The writer and
 * the probes ask it on every (re)connect, so switching it is how traffic moves to a recovered
 * instance.
 */
export class DatabaseRouter {
  private listeners: Array<(instance: PgInstance) => void> = [];

  constructor(private instance: PgInstance) {}

  get current(): PgInstance {
    return this.instance;
  }

  get connection(): ConnectionInfo {
    return { ...this.instance.connection, database: 'drill' };
  }

  switchTo(instance: PgInstance): void {
    this.instance = instance;
    for (const listener of this.listeners) listener(instance);
  }

  onSwitch(listener: (instance: PgInstance) => void): void {
    this.listeners.push(listener);
  }
}
