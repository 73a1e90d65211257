import { existsSync } from 'node:fs';
import http from 'node:http';

/**
 * Whether a Docker engine answers: GET /_ping on DOCKER_HOST (unix or tcp) or the default socket.
 * The client binary alone is not enough (these CI machines have it without a daemon).
 */
export function dockerEngineAnswers(timeoutMs = 1500): Promise<boolean> {
  const host = process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
  const options: http.RequestOptions = { path: '/_ping', method: 'GET', timeout: timeoutMs };
  if (host.startsWith('unix://')) {
    const socketPath = host.slice('unix://'.length);
    if (!existsSync(socketPath)) return Promise.resolve(false);
    options.socketPath = socketPath;
  } else if (host.startsWith('tcp://')) {
    const url = new URL(host.replace('tcp://', 'http://'));
    options.host = url.hostname;
    options.port = Number(url.port || 2375);
  } else {
    return Promise.resolve(false);
  }
  return new Promise((resolve) => {
    const req = http.request(options, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}
