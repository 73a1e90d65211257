import { execFileSync } from 'node:child_process';
import { EnvironmentError } from '../../engine/errors.js';
import type { RunAs } from '../process/run-command.js';
import { childEnvironment } from '../process/child-environment.js';

/**
 * PostgreSQL refuses to run as root. When the harness is root, servers and tools run as the
 * `postgres` system user (or DRILL_PG_USER); otherwise as the current user.
 */
export function postgresRunAs(): RunAs | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const user = process.env.DRILL_PG_USER ?? 'postgres';
  try {
    const uid = Number(execFileSync('id', ['-u', user], { encoding: 'utf8', env: childEnvironment() }).trim());
    const gid = Number(execFileSync('id', ['-g', user], { encoding: 'utf8', env: childEnvironment() }).trim());
    return { uid, gid };
  } catch {
    throw new EnvironmentError(
      'PG_USER_MISSING',
      `running as root, and PostgreSQL will not run as root, but there is no user "${user}" to run it as; ` +
        'create it (useradd --system postgres), set DRILL_PG_USER to another unprivileged user, or run drill as a normal user.',
    );
  }
}
