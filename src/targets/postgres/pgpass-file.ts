import { chownSync, writeFileSync } from 'node:fs';
import type { RunAs } from '../process/run-command.js';

export interface PgPassEntry {
  /** `*` matches any. */
  host: string;
  port: number | '*';
  database?: string;
  user: string;
  password: string;
}

/** A field of a pgpass line: `:` and `\` are escaped with a backslash (libpq's passwordFromFile). */
function field(value: string): string {
  return value === '*' ? '*' : value.replace(/[\\:]/g, (c) => `\\${c}`);
}

export function pgPassLine(e: PgPassEntry): string {
  return [e.host, String(e.port), e.database ?? '*', e.user, e.password].map(field).join(':');
}

/**
 * A libpq password file (https://www.postgresql.org/docs/current/libpq-pgpass.html) inside the
 * drill's temp directory: how PostgreSQL's own programs (pg_basebackup, a standby's WAL receiver
 * through `passfile=` in primary_conninfo) get a password without it being on their command line or
 * in their environment. Mode 0600 and owned by the user the programs run as; libpq ignores a
 * password file that others can read.
 */
export class PgPassFile {
  private readonly lines: string[] = [];

  constructor(
    readonly path: string,
    private readonly owner: RunAs | undefined,
  ) {
    this.write();
  }

  add(entry: PgPassEntry): void {
    const line = pgPassLine(entry);
    if (this.lines.includes(line)) return;
    this.lines.push(line);
    this.write();
  }

  /** The environment that makes libpq programs read it. */
  get env(): Record<string, string> {
    return { PGPASSFILE: this.path };
  }

  private write(): void {
    writeFileSync(this.path, this.lines.map((l) => `${l}\n`).join(''), { mode: 0o600 });
    if (this.owner) chownSync(this.path, this.owner.uid, this.owner.gid);
  }
}
