import { RELEASE_MIGRATIONS } from './index.js';
import { byVersion, formatVersion, versionNumber, type SchemaMigration } from './schema-migration.js';

/**
 * The migrations the deployed application ships: what `npm run migrate:*` inside its container
 * would run. A fault that deploys a new release adds that release's migrations here, so the
 * runbook's rollback, run from the deployment as the runbook does, knows their down steps.
 */
export class DeployedMigrations {
  private readonly list: SchemaMigration[];

  constructor(initial: readonly SchemaMigration[] = RELEASE_MIGRATIONS) {
    this.list = [...initial].sort(byVersion);
  }

  get all(): readonly SchemaMigration[] {
    return this.list;
  }

  /** The version a migration added now would get: one past the newest shipped. */
  nextVersion(): string {
    return formatVersion(Math.max(0, ...this.list.map((m) => versionNumber(m.name))) + 1);
  }

  ship(migration: SchemaMigration): void {
    if (this.list.some((m) => versionNumber(m.name) === versionNumber(migration.name))) {
      throw new Error(`version of ${migration.name} is already shipped (${this.list.map((m) => m.name).join(', ')})`);
    }
    this.list.push(migration);
    this.list.sort(byVersion);
  }

  withdraw(name: string): void {
    const index = this.list.findIndex((m) => m.name === name);
    if (index >= 0) this.list.splice(index, 1);
  }
}
