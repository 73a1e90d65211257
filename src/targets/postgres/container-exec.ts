import createDebug from 'debug';
import type { ExecResult, StartedTestContainer } from 'testcontainers';
import { EnvironmentError } from '../../engine/errors.js';

const debug = createDebug('drill:pg');

export type ContainerExec = Pick<StartedTestContainer, 'exec'>;

/** Runs a command in the container as the postgres user; an unexpected exit code is an EnvironmentError. */
export async function execAsPostgres(container: ContainerExec, command: string[], okCodes = [0]): Promise<ExecResult> {
  debug('container exec %s', command.slice(0, 3).join(' '));
  const result = await container.exec(command, { user: 'postgres' });
  if (!okCodes.includes(result.exitCode)) {
    throw new EnvironmentError(
      'CONTAINER_EXEC_FAILED',
      `${command.slice(0, 2).join(' ')} in the PostgreSQL container failed (exit code ${result.exitCode}): ${result.output.trim().slice(-2000)}`,
    );
  }
  return result;
}
