import { accessSync, constants, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import createDebug from 'debug';
import { EnvironmentError } from '../../engine/errors.js';
import { childEnvironment } from '../process/child-environment.js';

const debug = createDebug('drill:pg');

const REQUIRED = ['initdb', 'pg_ctl', 'postgres', 'pg_basebackup'] as const;

export interface PostgresBinaries {
  bindir: string;
  major: number;
  path(tool: string): string;
  /** Whether an optional tool (pg_verifybackup, pg_amcheck, pg_checksums) is there. */
  has(tool: string): boolean;
}

/** Each strategy returns a bin directory to try, or undefined when it does not apply. */
type BindirStrategy = { name: string; find: () => string[] };

const strategies: BindirStrategy[] = [
  { name: 'DRILL_PG_BINDIR', find: () => (process.env.DRILL_PG_BINDIR ? [process.env.DRILL_PG_BINDIR] : []) },
  {
    name: 'pg_config --bindir',
    find: () => {
      try {
        return [execFileSync('pg_config', ['--bindir'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], env: childEnvironment() }).trim()];
      } catch {
        return [];
      }
    },
  },
  {
    name: '/usr/lib/postgresql/*/bin',
    find: () => {
      try {
        return readdirSync('/usr/lib/postgresql')
          .filter((v) => /^\d+$/.test(v))
          .sort((a, b) => Number(b) - Number(a))
          .map((v) => `/usr/lib/postgresql/${v}/bin`);
      } catch {
        return [];
      }
    },
  },
  { name: 'PATH', find: () => (process.env.PATH ?? '').split(path.delimiter).filter(Boolean) },
];

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Finds PostgreSQL server binaries; the first directory that has all required tools wins. */
export function findPostgresBinaries(): PostgresBinaries {
  const tried: string[] = [];
  // An explicit directory is an instruction, not a hint: no silent fallback to other binaries.
  const chosen = process.env.DRILL_PG_BINDIR ? strategies.slice(0, 1) : strategies.slice(1);
  for (const strategy of chosen) {
    for (const dir of strategy.find()) {
      tried.push(dir);
      if (!REQUIRED.every((tool) => executable(path.join(dir, tool)))) continue;
      const version = execFileSync(path.join(dir, 'postgres'), ['--version'], { encoding: 'utf8', env: childEnvironment() });
      const major = Number(/(\d+)(?:\.\d+)?/.exec(version)?.[1] ?? NaN);
      debug('PostgreSQL %d binaries in %s (found by %s)', major, dir, strategy.name);
      return {
        bindir: dir,
        major,
        path: (tool) => path.join(dir, tool),
        has: (tool) => executable(path.join(dir, tool)),
      };
    }
  }
  throw new EnvironmentError(
    'PG_BINARIES_NOT_FOUND',
    `no PostgreSQL server binaries (${REQUIRED.join(', ')}) found; looked in DRILL_PG_BINDIR, pg_config --bindir, ` +
      `/usr/lib/postgresql/*/bin and PATH (${tried.length} directories). Install them (Debian: apt-get install postgresql), ` +
      'set DRILL_PG_BINDIR to their directory, or use provider: external with a url.',
  );
}
