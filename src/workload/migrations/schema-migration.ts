import type pg from 'pg';

/**
 * One versioned schema change with its undo, as the application ships it. `name` starts with the
 * zero-padded version (`004-transfer-reference`); versions only ever grow, so the highest applied
 * one is the schema's current version.
 */
export interface SchemaMigration {
  readonly name: string;
  readonly description: string;
  /** Runs inside a transaction the migrator opens (PostgreSQL DDL is transactional). */
  up(client: pg.ClientBase): Promise<void>;
  down(client: pg.ClientBase): Promise<void>;
}

const VERSION = /^(\d+)(?:-|$)/;

/** The version part of a migration name: `004-transfer-reference` → `004`. */
export function versionOf(name: string): string {
  const match = VERSION.exec(name);
  if (!match) throw new Error(`migration name "${name}" does not start with a version number`);
  return match[1]!;
}

/** Numeric order, so `010` sorts after `009` and `4` names the same version as `004`. */
export function versionNumber(nameOrVersion: string): number {
  return Number(versionOf(nameOrVersion));
}

export function byVersion(a: { name: string }, b: { name: string }): number {
  return versionNumber(a.name) - versionNumber(b.name);
}

/** A version as names are written: zero-padded to three digits. */
export function formatVersion(n: number): string {
  return String(n).padStart(3, '0');
}
