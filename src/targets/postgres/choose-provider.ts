import { EnvironmentError } from '../../engine/errors.js';
import { dockerEngineAnswers } from '../docker-available.js';

export type PostgresProviderName = 'native' | 'testcontainers' | 'external';

export interface ProviderChoice {
  name: PostgresProviderName;
  why: string;
}

/**
 * `auto` is an ordered list of strategies, each saying whether it applies: a url means that
 * server, a Docker engine that answers means testcontainers, otherwise the machine's own binaries.
 */
export async function choosePostgresProvider(
  wanted: 'auto' | PostgresProviderName,
  docker: () => Promise<boolean> = dockerEngineAnswers,
  hasUrl = false,
): Promise<ProviderChoice> {
  if (wanted !== 'auto') {
    if (wanted === 'testcontainers' && !(await docker())) {
      throw new EnvironmentError(
        'DOCKER_UNAVAILABLE',
        'provider: testcontainers needs a Docker engine, and none answers (DOCKER_HOST or /var/run/docker.sock); ' +
          'start Docker, or use provider: native (PostgreSQL binaries on this machine) or provider: auto',
      );
    }
    return { name: wanted, why: 'chosen in the scenario' };
  }
  if (hasUrl) return { name: 'external', why: 'auto: the scenario gives a url' };
  if (await docker()) return { name: 'testcontainers', why: 'auto: a Docker engine answers' };
  return { name: 'native', why: 'auto: no Docker engine answers, using PostgreSQL binaries on this machine' };
}
