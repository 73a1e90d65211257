import { dockerRequest } from './docker/docker-api.js';
import { dockerHost } from './docker/docker-host.js';

/**
 * Whether a Docker engine answers: GET /_ping on DOCKER_HOST (unix or tcp) or the default socket.
 * The client binary alone is not enough (these CI machines have it without a daemon).
 */
export async function dockerEngineAnswers(timeoutMs = 1500): Promise<boolean> {
  return (await dockerRequest(dockerHost(), 'GET', '/_ping', timeoutMs))?.status === 200;
}
